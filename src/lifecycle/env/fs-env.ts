/**
 * The thin filesystem layer over the pure env rules: reading env directories and layer path sub-directories,
 * and applying whole layers. Files are bounded (an env file over MAX_ENV_FILE_BYTES, or a directory of more
 * than MAX_ENV_FILES files, is an error naming it).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../../oci/errors.js';
import { invalidFile, readBoundedFile } from '../files/toml.js';
import type { PlatformEnv } from './build-env.js';
import { applyEnvFiles, compareFileNames, type EnvAction, type EnvFile } from './env-files.js';
import type { Env } from './env.js';
import { BUILD_ENV_DIRS, launchEnvDirs } from './launch-env.js';
import { addLayerPaths, BUILD_LAYER_PATHS, LAUNCH_LAYER_PATHS } from './layer-paths.js';

export const MAX_ENV_FILE_BYTES = 1024 * 1024;
export const MAX_ENV_FILES = 4096;

function ioError(path: string, e: unknown): CairnError {
  return new CairnError('IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
}

/**
 * The files of an env directory, in file-name order; `[]` when it does not exist. Sub-directories (and
 * symlinks to directories) are skipped, as the reference does.
 */
export async function readEnvDir(dir: string): Promise<EnvFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw ioError(dir, e);
  }
  if (names.length > MAX_ENV_FILES) throw invalidFile(dir, `more than ${MAX_ENV_FILES} env files`, 'an env directory holds one small file per variable');
  names.sort(compareFileNames);
  const out: EnvFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      throw ioError(path, e);
    }
    if (st.isDirectory()) continue;
    out.push({ name, contents: await readBoundedFile(path, MAX_ENV_FILE_BYTES) });
  }
  return out;
}

/** The user (`<platform>/env/`) and operator (`<build-config>/env/`) env files. */
export async function readPlatformEnv(platformDir: string, buildConfigDir: string): Promise<PlatformEnv> {
  return { user: await readEnvDir(join(platformDir, 'env')), operator: await readEnvDir(join(buildConfigDir, 'env')) };
}

/** Which sub-directories of a map (`bin`, `lib`, …) exist under a layer directory. */
export async function presentLayerPathDirs(layerDir: string, map: Readonly<Record<string, readonly string[]>>): Promise<Set<string>> {
  const present = new Set<string>();
  for (const sub of Object.keys(map)) {
    try {
      await stat(join(layerDir, sub));
      present.add(sub);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw ioError(join(layerDir, sub), e);
    }
  }
  return present;
}

async function applyDirs(env: Env, layerDir: string, dirs: readonly string[], action: EnvAction): Promise<Env> {
  let out = env;
  for (const d of dirs) out = applyEnvFiles(out, await readEnvDir(join(layerDir, d)), action);
  return out;
}

/**
 * A `build = true` layer of a finished buildpack, for the buildpacks after it: its path sub-directories,
 * then `env/`, then `env.build/` (reference `setupEnv`).
 */
export async function applyBuildLayer(env: Env, layerDir: string): Promise<Env> {
  const withPaths = addLayerPaths(env, layerDir, await presentLayerPathDirs(layerDir, BUILD_LAYER_PATHS), BUILD_LAYER_PATHS);
  return applyDirs(withPaths, layerDir, BUILD_ENV_DIRS, 'override');
}

/**
 * One buildpack's launch layers (directories in name order): all their `bin`/`lib` first, then each one's
 * `env/`, `env.launch/`, `env.launch/<processType>/`.
 */
export async function applyLaunchBuildpack(env: Env, layerDirs: readonly string[], processType: string | undefined): Promise<Env> {
  let out = env;
  for (const l of layerDirs) out = addLayerPaths(out, l, await presentLayerPathDirs(l, LAUNCH_LAYER_PATHS), LAUNCH_LAYER_PATHS);
  for (const l of layerDirs) out = await applyDirs(out, l, launchEnvDirs(processType), 'override');
  return out;
}

/** The layer directories under `<layers>/<bp>` in name order; `[]` when it does not exist. */
export async function listLayerDirs(bpLayersDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(bpLayersDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(bpLayersDir, e);
  }
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(compareFileNames)
    .map((n) => join(bpLayersDir, n));
}
