/**
 * Builds fixture apps with cairn's buildpacks through the creator (detect, restore, build, export) in the
 * bubblewrap sandbox over the host's root filesystem as the build image, the way `cairn build` will:
 * - the buildpacks are bundled fresh (scripts/bundle-buildpacks.mjs) into the lifecycle's layout;
 * - Node.js and npm packages come through a caching registry mirror (registry-mirror.ts), so each tarball is
 *   downloaded once per test file and every request is counted;
 * - the run image is made here from the host's loader, libc, libstdc++, sh, bash and perl (no Node.js, no
 *   npm), so the exported image runs under podman;
 * - each app has its own cache folder and its previous image (`<app>:latest`) in one OCI layout store.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { parseApiVersion } from '../../../src/lifecycle/api.js';
import { openVolumeCache } from '../../../src/lifecycle/cache/volume-cache.js';
import type { OrderGroup } from '../../../src/lifecycle/files/module-ref.js';
import { compileLauncherOnHost } from '../../../src/lifecycle/launcher/compile.js';
import { commitCache, create, type CreateResult } from '../../../src/lifecycle/phases/creator.js';
import { SANDBOX_DIRS } from '../../../src/lifecycle/phases/dirs.js';
import { createBwrapExecutor } from '../../../src/lifecycle/sandbox/bwrap-executor.js';
import { writeImage } from '../../../src/oci/copy.js';
import { type Image, loadImage } from '../../../src/oci/image.js';
import { createDockerArchive } from '../../../src/oci/store/archive/docker-archive.js';
import { type LayoutStore, openLayoutStore } from '../../../src/oci/store/layout/layout-store.js';
import { hostShellFiles, makeTestImage, type TestFile } from '../../helpers/make-image.js';
import type { Podman } from '../../helpers/podman.js';
import { RegistryMirror } from './registry-mirror.js';

/** Source-tree paths (tests run from dist/test/…). */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const FIXTURES = join(REPO, 'test', 'buildpacks', 'fixtures');

export const NODE_ENGINE = 'cairn/node-engine';
export const NPM_INSTALL = 'cairn/npm-install';
export const NODE_START = 'cairn/node-start';
export const PROCFILE = 'cairn/procfile';
export const YARN_INSTALL = 'cairn/yarn-install';
export const PNPM_INSTALL = 'cairn/pnpm-install';

/** The Node.js orders of the default builder (item 8 is not ours; this is the part these buildpacks form). */
export const NODE_ORDER = [[NODE_ENGINE, YARN_INSTALL, NODE_START], [NODE_ENGINE, PNPM_INSTALL, NODE_START], [NODE_ENGINE, NPM_INSTALL, NODE_START], [NODE_ENGINE, NODE_START], [PROCFILE]];

export interface Harness {
  base: string;
  buildpacks: string;
  launcher: string;
  mirror: RegistryMirror;
  store: LayoutStore;
  cleanup(): Promise<void>;
}

function runImageFiles(): TestFile[] {
  const files: TestFile[] = [
    { path: 'etc/os-release', content: 'ID=cairntest\nVERSION_ID="1"\n' },
    { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\ncnb:x:1000:1000:cnb:/home/cnb:/bin/sh\n' },
    { path: 'etc/group', content: 'root:x:0:\ncnb:x:1000:\n' },
    { path: 'tmp/.keep', content: '' },
    { path: 'home/cnb/.keep', content: '' },
  ];
  // Node.js needs the loader, libc, libm, libdl, libpthread, libstdc++ and libgcc_s: found with ldconfig and
  // copied with what they load; sh, bash and perl for the shell and Procfile processes.
  const ldconfig = execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
  const libs = ['libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'libc.so.6'].map((name) => {
    const m = new RegExp(`^\\s*${name.replace(/[.+]/g, '\\$&')} \\(libc6,x86-64\\) => (\\S+)$`, 'm').exec(ldconfig);
    if (!m) throw new Error(`ldconfig has no ${name}`);
    return m[1]!;
  });
  const seen = new Set<string>();
  for (const f of hostShellFiles(['/bin/sh', '/bin/bash', '/usr/bin/perl', ...libs])) {
    if (!seen.has(f.path)) files.push(f);
    seen.add(f.path);
  }
  // perl's core modules (IO::Socket::INET for the Procfile fixture's server).
  const perlBase = '/usr/lib/x86_64-linux-gnu/perl-base';
  for (const e of readdirSync(perlBase, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) files.push({ path: join(e.parentPath, e.name).slice(1), content: readFileSync(join(e.parentPath, e.name)) });
  }
  return files;
}

export async function setupHarness(): Promise<Harness> {
  const base = await mkdtemp(join(tmpdir(), 'cairn-bp-'));
  const buildpacks = join(base, 'buildpacks');
  const mod = (await import(pathToFileURL(join(REPO, 'scripts', 'bundle-buildpacks.mjs')).href)) as { bundleBuildpacks(out: string, o: { versioned: boolean }): Promise<unknown> };
  await mod.bundleBuildpacks(buildpacks, { versioned: true });
  const launcher = join(base, 'launcher');
  await compileLauncherOnHost(launcher);
  const mirror = await RegistryMirror.start();
  const store = await openLayoutStore(join(base, 'store'), { create: true });
  await makeTestImage(store, 'run:v1', { layers: [runImageFiles()], runtime: { User: '1000:1000', Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] } });
  return {
    base, buildpacks, launcher, mirror, store,
    async cleanup() {
      await mirror.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}

export function order(...groups: string[][]): OrderGroup[] {
  return groups.map((g) => ({ group: g.map((id) => ({ id, version: '0.1.0', optional: false, execEnv: [] })) }));
}

export interface BuildOptions {
  /** Fixture folder name under test/buildpacks/fixtures (or a path from the repository root, such as
   * `examples/seed`), copied fresh into the workspace. */
  fixture: string;
  /** Image name in the store (`<app>:latest`) and cache folder name; default the fixture's. */
  app?: string;
  order?: OrderGroup[];
  /** `<platform>/env` variables besides the mirror and CA settings. */
  env?: Record<string, string>;
  /** Changes the app after the copy. */
  mutate?: (appDir: string) => Promise<void>;
}

export interface Built extends CreateResult {
  /** Every buildpack's output, in order. */
  output: string;
  /** Mirror requests made by this build. */
  requests: RegistryMirror['records'];
  ms: number;
}

/** Runs one build; on failure the thrown error carries the buildpack output (LifecycleError.output). */
export async function buildApp(h: Harness, opts: BuildOptions): Promise<Built> {
  const app = opts.app ?? basename(opts.fixture);
  const root = await mkdtemp(join(h.base, `work-${app}-`));
  const dirs = {
    host: { app: join(root, 'workspace'), layers: join(root, 'layers'), platform: join(root, 'platform'), buildpacks: h.buildpacks, buildConfig: join(root, 'build-config') },
    sandbox: SANDBOX_DIRS,
  };
  await cp(opts.fixture.includes('/') ? join(REPO, opts.fixture) : join(FIXTURES, opts.fixture), dirs.host.app, { recursive: true });
  if (opts.mutate) await opts.mutate(dirs.host.app);
  for (const d of [dirs.host.layers, join(dirs.host.platform, 'env'), join(dirs.host.buildConfig, 'env'), join(root, 'blobs')]) await mkdir(d, { recursive: true });
  const env = {
    NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
    BP_NODE_REGISTRY: h.mirror.url,
    npm_config_registry: `${h.mirror.url}/`,
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) await writeFile(join(dirs.host.platform, 'env', k), v);
  const cache = await openVolumeCache(join(h.base, `cache-${app}`), { warn: () => undefined });
  const outputs: string[] = [];
  const from = h.mirror.records.length;
  const started = Date.now();
  try {
    const r = await create({
      dirs,
      executor: createBwrapExecutor({ rootfs: '/' }),
      platformApi: parseApiVersion('0.15'),
      order: opts.order ?? order(...NODE_ORDER),
      runImage: { store: h.store, ref: 'run:v1', name: 'cairn-test/run:v1' },
      previous: { store: h.store, ref: `${app}:latest`, name: app },
      cache,
      launcherPath: h.launcher,
      launcherInfo: { version: '0.1.0', source: { git: { repository: 'cairn', commit: 'test' } } },
      uid: 1000,
      gid: 1000,
      created: new Date('1980-01-01T00:00:01Z'),
      processEnv: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
      platform: { os: 'linux', architecture: 'amd64' },
      workDir: join(root, 'blobs'),
      log: (level, message) => {
        const m = /^build (\S+): exit \d+[^\n]*\n([\s\S]*)$/.exec(message);
        if (level === 'debug' && m) outputs.push(m[2]!);
      },
    });
    await writeImage(r.image, h.store, `${app}:latest`);
    await commitCache(cache, r.exported, (m) => {
      throw new Error(m);
    });
    // The image as stored: its layers no longer point into the work folder removed below.
    const image = await loadImage(h.store, `${app}:latest`);
    return { ...r, image, output: outputs.join('\n'), requests: h.mirror.records.slice(from), ms: Date.now() - started };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Paths in one layer (leading `/` removed, folders end with `/`). */
export async function layerPaths(image: Image, index: number): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of await image.layers[index]!.compressed()) chunks.push(c as Buffer);
  const raw = gunzipSync(Buffer.concat(chunks));
  const names: string[] = [];
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      names.push(h.name.replace(/^\.?\//, '') + (h.type === 'directory' && !h.name.endsWith('/') ? '/' : ''));
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(raw);
  await done;
  return names;
}

/** Loads the image into podman, runs its web process on `port` (host network) and returns the answer to GET /. */
export async function serve(podman: Podman, image: Image, tag: string, port: number, extra: string[] = []): Promise<{ body: string; logs: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bp-archive-'));
  const ref = `localhost/cairn-bp-${tag}:latest`;
  try {
    const archive = join(dir, 'image.tar');
    const sink = await createDockerArchive(archive);
    await writeImage(image, sink, ref);
    await sink.close();
    podman.podman(['load', '-i', archive]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const id = podman.podman(['run', '-d', '--network', 'host', '-e', `PORT=${port}`, ...extra, ref]).trim();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return { body: await res.text(), logs: podman.podman(['logs', id]) };
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`no answer on port ${port}: ${(e as Error).message}\n${podman.podman(['logs', id])}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    podman.podman(['rm', '-f', id]);
  }
}

/** Runs a command in the image through the launcher (`/cnb/lifecycle/launcher -- …`). */
export function runIn(podman: Podman, tag: string, argv: string[], extra: string[] = []): string {
  return podman.podman(['run', '--rm', '--network', 'none', ...extra, '--entrypoint', '/cnb/lifecycle/launcher', `localhost/cairn-bp-${tag}:latest`, '--', ...argv]);
}

/** Every path in every layer of a built image. */
export async function allPaths(b: Built): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < b.image.layers.length; i++) out.push(...(await layerPaths(b.image, i)));
  return out;
}

export interface BuiltProcess {
  type: string;
  command: string[];
  args: string[];
  'working-dir'?: string;
}

/** The processes a built image declares (its build metadata label). */
export function processes(b: Built): BuiltProcess[] {
  return (JSON.parse(b.image.config.config!.Labels!['io.buildpacks.build.metadata']!) as { processes: BuiltProcess[] }).processes;
}

/** The failure text (message and buildpack output) of a build of `fixture` with `dep` added to its package.json. */
export async function outOfSync(h: Harness, fixture: string, dep: string): Promise<string> {
  try {
    await buildApp(h, {
      fixture,
      mutate: async (app) => {
        const p = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
        p.dependencies[dep] = '*';
        await writeFile(join(app, 'package.json'), JSON.stringify(p));
      },
    });
  } catch (e) {
    const err = e as Error & { output?: string };
    return `${err.message}\n${err.output ?? ''}`;
  }
  throw new Error(`the build of ${fixture} with ${dep} added passed`);
}
