/** Small file helpers: optional reads, JSON with the file named in errors, existence checks. */
import { chmodSync, constants as fsConstants, copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
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
 * Copies a tree as it is: folders, files (mode kept: copyFile gives the copy its source's mode), symlinks
 * verbatim (never followed, never rewritten). Node's fs.cp rewrites relative symlinks before Node.js 18, and a
 * buildpack may run on an older runtime. Synchronous calls on purpose: a node_modules tree is thousands of
 * small files, and a thread-pool round trip per call costs several times the copy itself. `leaveOut` skips
 * entries (a folder with all it holds).
 */
export async function copyTree(src: string, dest: string, leaveOut?: CopyFilter): Promise<void> {
  copyEntry(src, dest, lstatSync(src), '', leaveOut);
}

/** Entries a copy leaves out: `rel` is the path below the copied folder (`/`-separated), `link` a symlink's target. */
export type CopyFilter = (rel: string, link: string | undefined) => boolean;

function copyEntry(src: string, dest: string, st: { isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean; mode?: number }, rel: string, leaveOut: CopyFilter | undefined): void {
  if (st.isSymbolicLink()) {
    const link = readlinkSync(src);
    if (!leaveOut?.(rel, link)) symlinkSync(link, dest);
  } else if (st.isDirectory()) {
    if (rel !== '' && leaveOut?.(rel, undefined)) return;
    const mode = st.mode ?? lstatSync(src).mode;
    mkdirSync(dest, { recursive: true, mode: mode & 0o7777 });
    for (const e of readdirSync(src, { withFileTypes: true })) copyEntry(join(src, e.name), join(dest, e.name), e, rel === '' ? e.name : `${rel}/${e.name}`, leaveOut);
    chmodSync(dest, mode & 0o7777);
  } else if (st.isFile() && !leaveOut?.(rel, undefined)) {
    copyFileSync(src, dest, fsConstants.COPYFILE_FICLONE);
  }
}
