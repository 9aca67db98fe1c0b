/**
 * The folder of a volume cache (digest §5.5) and its crash recovery:
 *
 *   <dir>/committed/<diffID>.tar                           the committed generation (file `sha256:<hex>.tar`)
 *   <dir>/committed/io.buildpacks.lifecycle.cache.metadata  its metadata (JSON)
 *   <dir>/committed-backup/                                the previous generation, during a commit only
 *   <dir>/staging.<pid>.<hex>/                             one per writer, renamed to `committed` on commit
 *   <dir>/cache.lock                                       inter-process lock (pid + host, stale-pid breaking)
 *   <dir>/trees/                                           kept layer trees (volume-trees.ts)
 *
 * `committed/` has the reference lifecycle's layout, so either tool reads what the other committed. Staging
 * differs: the reference writes to one `staging/`, which two concurrent builds would clobber; here each writer
 * has its own, and the reference's `staging/` is removed as stale.
 */
import { constants as fsc } from 'node:fs';
import { copyFile, type FileHandle, link, lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../../oci/digest.js';
import { CairnError, messageOf } from '../../oci/errors.js';
import { processAlive } from '../../oci/process-liveness.js';

export interface VolumePaths {
  dir: string;
  committed: string;
  backup: string;
  lock: string;
  /** Kept layer trees (volume-trees.ts). */
  trees: string;
}

export function volumePaths(dir: string): VolumePaths {
  return { dir, committed: join(dir, 'committed'), backup: join(dir, 'committed-backup'), lock: join(dir, 'cache.lock'), trees: join(dir, 'trees') };
}

export function layerFile(folder: string, diffID: Digest): string {
  return join(folder, `${diffID}.tar`);
}

export function stagingName(pid: number, random: string): string {
  return `staging.${pid}.${random}`;
}

const STAGING_RE = /^staging\.(\d+)\.[0-9a-f]+$/;

/**
 * Brings the folder back to a committed state; call it holding the lock. A commit is two renames
 * (`committed` → `committed-backup`, staging → `committed`) and the removal of the backup, so after a crash:
 * no `committed` but a backup → the crash hit between the renames: the backup is the old generation and is
 * put back; both → the crash hit after them: the backup is dropped. Staging folders of processes that are
 * gone, and the reference lifecycle's `staging/`, are removed.
 */
export async function recover(paths: VolumePaths): Promise<void> {
  if (await exists(paths.backup)) {
    if (await exists(paths.committed)) await rm(paths.backup, { recursive: true, force: true });
    else await rename(paths.backup, paths.committed);
  }
  for (const name of await readdir(paths.dir)) {
    const m = STAGING_RE.exec(name);
    if (name === 'staging' || (m && !processAlive(Number(m[1])))) await rm(join(paths.dir, name), { recursive: true, force: true });
  }
}

/** Opens a regular file for reading, refusing a symlink or anything else in its place (IO). */
export async function openRegular(path: string): Promise<FileHandle> {
  const fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  try {
    if ((await fh.stat()).isFile()) return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
  await fh.close();
  throw new CairnError('IO', `${path} is not a regular file`, { hint: 'something other than cairn changed the cache folder; remove it' });
}

/** Reads a small regular file whole, refusing one over `maxBytes` (IO). */
export async function readSmallFile(path: string, maxBytes: number): Promise<string> {
  const fh = await openRegular(path);
  try {
    const size = (await fh.stat()).size;
    if (size > maxBytes) throw new CairnError('IO', `${path} is ${size} bytes, over the ${maxBytes}-byte limit`, { hint: 'the cache folder is damaged; remove it' });
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Makes `dest` the same file as `src`: a hard link (no bytes copied), or a copy where links are not possible
 * (another file system, or one without hard links).
 */
export async function linkOrCopy(src: string, dest: string): Promise<void> {
  try {
    await link(src, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    await copyFile(src, dest, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}

export function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === code;
}

/** Wraps a file-system error of the cache folder as a CairnError IO. */
export function ioError(what: string, e: unknown): CairnError {
  if (e instanceof CairnError) return e;
  return new CairnError('IO', `${what}: ${messageOf(e)}`, { cause: e, hint: 'check that the cache folder exists, is writable and has free space' });
}

