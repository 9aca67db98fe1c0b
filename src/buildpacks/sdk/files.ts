/** Small file helpers: optional reads, JSON with the file named in errors, existence checks. */
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildpackError, messageOf } from './errors.js';

/** The file's text, or undefined when it does not exist (or is not a file). */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
    throw new BuildpackError(`cannot read ${path}: ${messageOf(e)}`, { cause: e });
  }
}

/** Parsed JSON object of `path`, undefined when it does not exist; invalid JSON is an error naming the file. */
export async function readJsonIfExists<T = Record<string, unknown>>(path: string, shownAs = path): Promise<T | undefined> {
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as T;
  } catch (e) {
    throw new BuildpackError(`${shownAs} is not valid JSON: ${messageOf(e)}`, { cause: e, hint: `fix ${shownAs}` });
  }
}

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other' | undefined;

/** What is at `path` (without following a last symlink); undefined when nothing. */
export async function entryKind(path: string): Promise<EntryKind> {
  try {
    const st = await lstat(path);
    return st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

/**
 * Copies a tree as it is: folders, files (mode kept), symlinks verbatim (never followed, never rewritten).
 * Node's fs.cp rewrites relative symlinks before Node.js 18, and a buildpack may run on an older runtime.
 */
export async function copyTree(src: string, dest: string): Promise<void> {
  const st = await lstat(src);
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
  } else if (st.isDirectory()) {
    await mkdir(dest, { recursive: true, mode: st.mode & 0o7777 });
    for (const name of await readdir(src)) await copyTree(join(src, name), join(dest, name));
    await chmod(dest, st.mode & 0o7777);
  } else if (st.isFile()) {
    await copyFile(src, dest, fsConstants.COPYFILE_FICLONE);
    await chmod(dest, st.mode & 0o7777);
  }
}
