/**
 * Reading what a buildpack wrote, from the host side of the sandbox.
 *
 * Inside the sandbox a symlink resolves against the build image; read from the host it would resolve against
 * the host. So nothing a buildpack wrote is followed: files are opened with O_NOFOLLOW (a symlink is an
 * error) and O_NONBLOCK (a FIFO cannot hang the lifecycle), must be regular files and are size-bounded;
 * directories are listed with their entry types, and only real directories are entered.
 *
 * `readBuildpackOutputs` reads `<layers>/<bp>` after `bin/build` (digest §2.3–§2.6): launch.toml,
 * build.toml, store.toml and every `<layer>.toml` with whether its directory exists.
 */
import { constants as fsc, type Dirent } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../../oci/errors.js';
import { compareFileNames } from '../env/env-files.js';
import { parseBuildToml, type BuildToml } from '../files/build-toml.js';
import { parseLaunchToml, type LaunchToml } from '../files/launch-toml.js';
import { isReservedLayerName, parseLayerToml, type LayerToml } from '../files/layer-toml.js';
import { parseStoreToml, type StoreToml } from '../files/store-toml.js';
import { invalidFile, MAX_TOML_BYTES } from '../files/toml.js';

function ioError(path: string, e: unknown): CairnError {
  return new CairnError('IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
}

/**
 * A file a buildpack wrote, as UTF-8; undefined when it does not exist. Throws INVALID_LIFECYCLE_FILE for a
 * symlink, anything but a regular file, or more than `maxBytes`.
 */
export async function readUntrustedFile(path: string, maxBytes: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw invalidFile(path, 'is a symbolic link', 'write the file itself, not a link to it');
    throw ioError(path, e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw invalidFile(path, 'is not a regular file');
    if (st.size > maxBytes) throw invalidFile(path, `larger than ${maxBytes} bytes`);
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > maxBytes) throw invalidFile(path, `larger than ${maxBytes} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A CNB TOML file a buildpack wrote, parsed; undefined when absent. */
export async function readUntrustedToml<T>(path: string, parse: (text: string, file: string) => T): Promise<T | undefined> {
  const text = await readUntrustedFile(path, MAX_TOML_BYTES);
  return text === undefined ? undefined : parse(text, path);
}

/** Entries of a directory in file-name order, without following it if it is a link; [] when absent. */
export async function listUntrustedDir(dir: string): Promise<Dirent[]> {
  let entries: Dirent[];
  try {
    const fh = await open(dir, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_DIRECTORY);
    await fh.close();
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return [];
    throw ioError(dir, e);
  }
  return entries.sort((a, b) => compareFileNames(a.name, b.name));
}

/** One `<layer>.toml` of a buildpack. */
export interface LayerFile {
  name: string;
  toml: LayerToml;
  /** `<layer>/` is a directory (a launch layer without one is reused from the previous image). */
  hasDir: boolean;
}

export interface BuildpackOutputs {
  launch?: LaunchToml;
  build?: BuildToml;
  store?: StoreToml;
  /** In layer-name order. */
  layers: LayerFile[];
  /** Names of the regular files in `<layers>/<bp>`. */
  files: string[];
}

const OWN_FILES = new Set(['launch.toml', 'build.toml', 'store.toml']);

/**
 * Reads and validates `<layers>/<bp>` (host path). Layer directories named `build`, `launch` or `store` are
 * rejected (digest §2.3); so are top-level types in a layer .toml (`parseLayerToml`).
 */
export async function readBuildpackOutputs(bpLayersDir: string): Promise<BuildpackOutputs> {
  const entries = await listUntrustedDir(bpLayersDir);
  const dirs = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  for (const d of dirs) {
    if (isReservedLayerName(d)) {
      throw invalidFile(join(bpLayersDir, d), `"${d}" is a reserved layer name`, 'layers must not be named build, launch or store');
    }
  }
  const layers: LayerFile[] = [];
  for (const e of entries) {
    if (!e.name.endsWith('.toml') || OWN_FILES.has(e.name)) continue;
    const name = e.name.slice(0, -'.toml'.length);
    if (name === '' || name === '.' || name === '..') throw invalidFile(join(bpLayersDir, e.name), 'is not a valid layer name');
    const toml = (await readUntrustedToml(join(bpLayersDir, e.name), parseLayerToml))!;
    layers.push({ name, toml, hasDir: dirs.has(name) });
  }
  // By layer name, not file name: "a-b.toml" sorts before "a.toml", but layer "a" comes before "a-b".
  layers.sort((a, b) => compareFileNames(a.name, b.name));
  return {
    launch: await readUntrustedToml(join(bpLayersDir, 'launch.toml'), parseLaunchToml),
    build: await readUntrustedToml(join(bpLayersDir, 'build.toml'), parseBuildToml),
    store: await readUntrustedToml(join(bpLayersDir, 'store.toml'), parseStoreToml),
    layers,
    files: entries.filter((e) => e.isFile()).map((e) => e.name),
  };
}
