/**
 * The thin filesystem layer over the pure env rules: reading the platform's env directories (buildpack
 * layers, which are untrusted, are read by `phases/build-layer-env.ts`). Files are bounded (an env file over MAX_ENV_FILE_BYTES, or a directory of more
 * than MAX_ENV_FILES files, is an error naming it).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../../oci/errors.js';
import { invalidFile, readBoundedFile } from '../files/toml.js';
import type { PlatformEnv } from './build-env.js';
import { compareFileNames, type EnvFile } from './env-files.js';

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
