/**
 * A finished buildpack's `build = true` layer applied to the environment of the buildpacks after it
 * (digest §2.7, §2.8; reference `setupEnv`): its `bin`, `lib`, `include`,
 * `pkgconfig` prepended to the layer path variables, then its `env/` and `env.build/` files.
 *
 * Two differences, both because the layer is read from the host but used in the sandbox: the paths put into
 * the variables are sandbox paths, and nothing is followed through a symlink (`build-files.ts`). A path
 * sub-directory counts when it exists at all, even as a link (it is resolved in the sandbox, where it is used).
 */
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { CairnError } from '../../oci/errors.js';
import { applyEnvFiles, type EnvFile } from '../env/env-files.js';
import type { Env } from '../env/env.js';
import { MAX_ENV_FILE_BYTES, MAX_ENV_FILES } from '../env/fs-env.js';
import { addLayerPaths, BUILD_ENV_DIRS, BUILD_LAYER_PATHS } from '../env/layer-paths.js';
import { invalidFile } from '../files/toml.js';
import { listUntrustedDir, readUntrustedFile } from './build-files.js';

/** The regular files of an env directory a buildpack wrote (links and sub-directories skipped). */
export async function readUntrustedEnvDir(dir: string): Promise<EnvFile[]> {
  const entries = (await listUntrustedDir(dir)).filter((e) => e.isFile());
  if (entries.length > MAX_ENV_FILES) throw invalidFile(dir, `more than ${MAX_ENV_FILES} env files`, 'an env directory holds one small file per variable');
  const out: EnvFile[] = [];
  for (const e of entries) {
    const contents = await readUntrustedFile(join(dir, e.name), MAX_ENV_FILE_BYTES);
    if (contents !== undefined) out.push({ name: e.name, contents });
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new CairnError('IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Applies one build layer: `hostDir` is read, `sandboxDir` goes into the path variables. */
export async function applySandboxedBuildLayer(env: Env, hostDir: string, sandboxDir: string): Promise<Env> {
  const present = new Set<string>();
  for (const sub of Object.keys(BUILD_LAYER_PATHS)) if (await exists(join(hostDir, sub))) present.add(sub);
  let out = addLayerPaths(env, posix.normalize(sandboxDir), present, BUILD_LAYER_PATHS);
  for (const d of BUILD_ENV_DIRS) out = applyEnvFiles(out, await readUntrustedEnvDir(join(hostDir, d)), 'override');
  return out;
}
