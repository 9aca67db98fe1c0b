/**
 * SBOMs of a pair of node_modules layers (a build layer with every dependency, a launch layer with the
 * production ones), from what is installed rather than from a lockfile, so one reader serves yarn 1, yarn
 * node-modules and pnpm (whose packages live in `node_modules/.pnpm/<id>/node_modules/<name>`): every
 * `package.json` of a package folder under node_modules, symlinks not followed (pnpm's and workspace links).
 *
 * A launch layer reused from the previous image has no folder at build time: the `name@version` list of its
 * packages is kept in its metadata (`packages`), and its components are the build layer's with those keys.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonIfExists } from './files.js';
import type { Layer } from './layer.js';
import type { BuildContext } from './run.js';
import { cycloneDx, npmPurl, type SbomComponent, sbomCreated, spdx } from './sbom.js';

interface Manifest {
  name?: unknown;
  version?: unknown;
  license?: unknown;
}

async function dirs(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** The packages installed under the node_modules folder `nm`. */
export async function installedPackages(nm: string): Promise<SbomComponent[]> {
  const out: SbomComponent[] = [];
  const visitPackage = async (dir: string): Promise<void> => {
    const m = await readJsonIfExists<Manifest>(join(dir, 'package.json')).catch(() => undefined);
    if (m && typeof m.name === 'string' && typeof m.version === 'string') {
      const license = typeof m.license === 'string' ? m.license : undefined;
      out.push({ name: m.name, version: m.version, purl: npmPurl(m.name, m.version), ...(license ? { license } : {}) });
    }
    await visit(join(dir, 'node_modules'));
  };
  const visit = async (modules: string): Promise<void> => {
    for (const name of await dirs(modules)) {
      if (name === '.bin') continue;
      if (name === '.pnpm') for (const id of await dirs(join(modules, name))) await visit(join(modules, name, id, 'node_modules'));
      else if (name.startsWith('@')) for (const inner of await dirs(join(modules, name))) await visitPackage(join(modules, name, inner));
      else if (!name.startsWith('.')) await visitPackage(join(modules, name));
    }
  };
  await visit(nm);
  return out;
}

const keyOf = (c: SbomComponent): string => `${c.name}@${c.version}`;

/**
 * Writes the SBOMs of `build` and `launch`, whose node_modules are at `<layer>/<rel>`. Call after both are
 * filled (or reused); a fresh launch layer gets its `packages` metadata here.
 */
export async function writeModulesSboms(ctx: BuildContext, build: Layer, launch: Layer, rel: string): Promise<void> {
  const all = await installedPackages(join(build.path, rel));
  let keys: Set<string>;
  if (launch.reused) keys = new Set(Array.isArray(launch.metadata.packages) ? (launch.metadata.packages as unknown[]).map(String) : []);
  else {
    keys = new Set((await installedPackages(join(launch.path, rel))).map(keyOf));
    launch.metadata.packages = [...keys].sort();
  }
  const subject = (l: Layer) => ({ name: `${ctx.buildpack.id}:${l.name}`, tool: { name: ctx.buildpack.id, version: ctx.buildpack.version }, created: sbomCreated(ctx.config('SOURCE_DATE_EPOCH')) });
  const write = async (l: Layer, list: SbomComponent[]) => {
    await l.sbom('cdx', cycloneDx(subject(l), list));
    await l.sbom('spdx', spdx(subject(l), list));
  };
  await write(build, all);
  await write(launch, all.filter((c) => keys.has(keyOf(c))));
}
