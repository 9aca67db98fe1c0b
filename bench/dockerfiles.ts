/**
 * The Dockerfile baselines of issue 8, for an app folder:
 * - A, the seed's: FROM the node 16 base, COPY package.json and the sources, RUN npm install, CMD npm start;
 * - C, the best-practice order: COPY package.json and the lockfile, RUN npm ci, then COPY the sources.
 * An app with a `build` script (the TypeScript app) runs it after the sources are copied in both.
 *
 * The one extra the baselines need on this machine: npm reaches the registry through a TLS-intercepting
 * proxy, so the host's CA bundle is copied into the build context (`bench-ca.crt`) and handed to npm through
 * a build ARG (NODE_EXTRA_CA_CERTS): it is a layer of the image, but not in its runtime environment.
 */
import { copyFile, cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_BASE } from './base-images.js';

export interface BenchApp {
  name: string;
  /** The app folder (package.json, package-lock.json, sources). */
  dir: string;
  /** What the Dockerfiles copy as the app's sources, relative to the app folder. */
  sources: string[];
  /** The file a one-line source change edits. */
  changeFile: string;
  /** The package.json has a `build` script. */
  build: boolean;
}

export type DockerfileKind = 'A' | 'C';

function dockerfile(app: BenchApp, kind: DockerfileKind): string {
  const head = [`FROM ${NODE_BASE}`, 'WORKDIR /app', 'COPY bench-ca.crt /usr/local/share/bench-ca.crt', 'ARG NODE_EXTRA_CA_CERTS=/usr/local/share/bench-ca.crt'];
  const sources = app.sources.map((s) => `COPY ${s} ./${s}`);
  const build = app.build ? ['RUN npm run build'] : [];
  const body = kind === 'A'
    ? ['COPY package.json ./', ...sources, 'RUN npm install', ...build]
    : ['COPY package.json package-lock.json ./', 'RUN npm ci', ...sources, ...build];
  return [...head, ...body, 'CMD ["npm", "start"]', ''].join('\n');
}

/** Copies the app to `dest` with Dockerfile.A, Dockerfile.C, the CA bundle and a .dockerignore. */
export async function prepareContext(app: BenchApp, dest: string, caCert: string): Promise<string> {
  await cp(app.dir, dest, { recursive: true, filter: (src) => !/\/(node_modules|dist)$/.test(src) });
  await copyFile(caCert, join(dest, 'bench-ca.crt'));
  await writeFile(join(dest, '.dockerignore'), 'node_modules\ndist\n');
  await writeFile(join(dest, 'Dockerfile.A'), dockerfile(app, 'A'));
  await writeFile(join(dest, 'Dockerfile.C'), dockerfile(app, 'C'));
  return dest;
}
