/**
 * What goes into a layer: the caller's sources (directory trees from disk and explicit entries) turned
 * into one sorted list of entries, metadata only (no file contents are read here).
 *
 * Order: by path, component by component, each component compared as UTF-8 bytes (the order of
 * `tar --sort=name` and of Go's filepath.Walk). Every parent directory comes before its children and is
 * present: missing parents of a prefix or of an explicit entry are added as directories.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError, messageOf } from '../errors.js';

export type TreeEntryType = 'file' | 'dir' | 'symlink' | 'other';

/** Common ownership override for a source; defaults to the writer's `uid`/`gid`. */
interface Owned {
  uid?: number;
  gid?: number;
}

/**
 * A source of layer entries. Layer paths are POSIX, relative to the layer root (a leading `/` or `./` is
 * dropped; `..` is rejected).
 */
export type LayerSource =
  /** Directory `source` on disk, placed at `path` in the layer (default: the layer root). Symlinks inside
   * are stored as symlinks, never followed; sockets, FIFOs and devices are skipped. `filter` sees each
   * entry's path relative to `source`; returning false for a directory skips its whole subtree. */
  | (Owned & { type: 'tree'; source: string; path?: string; filter?: (entry: { path: string; type: TreeEntryType }) => boolean })
  | (Owned & { type: 'dir'; path: string })
  /** A regular file read from `source` (symlinks to it are followed); mode taken from the file. */
  | (Owned & { type: 'file'; path: string; source: string })
  /** A regular file with the given contents; `executable` gives it mode 0755 instead of 0644. */
  | (Owned & { type: 'file'; path: string; data: Uint8Array | string; executable?: boolean })
  | (Owned & { type: 'symlink'; path: string; target: string });

export type PlanKind = 'dir' | 'file' | 'symlink';

/** One entry of the plan. `mtime` (seconds) is set only where the writer needs it (clamping). */
export interface PlannedEntry {
  path: string;
  key: string;
  kind: PlanKind;
  uid: number;
  gid: number;
  /** Disk file to read (kind 'file' from an explicit source; symlinks to it are followed). */
  source?: string;
  /** The tree a walked file comes from (its final component is never followed); see `sourceOf`. */
  tree?: TreeRef;
  data?: Buffer;
  executable?: boolean;
  target?: string;
  mtime?: number;
  /** Merge priority for duplicate directories: explicit 2 > tree 1 > implied 0. */
  rank: number;
}

/** A walked tree: a file's disk path is `root/` + its layer path without the first `skip` characters. */
export interface TreeRef {
  root: string;
  skip: number;
}

/** The disk path of a file entry read from disk. */
export function sourceOf(e: PlannedEntry): string {
  return e.tree ? join(e.tree.root, e.path.slice(e.tree.skip)) : e.source!;
}

export interface PlanOptions {
  uid: number;
  gid: number;
  /** Read on-disk mtimes of directories and symlinks (files get theirs when opened). */
  wantMtimes: boolean;
  onSkip?: (path: string, kind: 'socket' | 'fifo' | 'char-device' | 'block-device' | 'unknown') => void;
}

/** Builds the sorted entry list. Throws INVALID_ARGUMENT for bad paths or conflicting entries, IO for disk errors. */
export async function planLayer(sources: readonly LayerSource[], opts: PlanOptions): Promise<PlannedEntry[]> {
  const byPath = new Map<string, PlannedEntry>();
  const add = (e: Omit<PlannedEntry, 'key'>): void => {
    // The entry object itself is stored: the tree walk fills in symlink targets and mtimes afterwards.
    const entry = e as PlannedEntry;
    const prev = byPath.get(e.path);
    if (prev === undefined) {
      entry.key = sortKey(e.path);
      byPath.set(e.path, entry);
      return;
    }
    if (prev.kind !== 'dir' || e.kind !== 'dir') {
      throw new CairnError('INVALID_ARGUMENT', `layer path "${e.path}" is given twice`, {
        hint: 'each file or symlink may appear once in a layer; only directories may repeat',
      });
    }
    if (e.rank > prev.rank) {
      entry.key = prev.key;
      byPath.set(e.path, entry);
    }
  };
  for (const s of sources) {
    const uid = s.uid ?? opts.uid;
    const gid = s.gid ?? opts.gid;
    checkId(uid, 'uid');
    checkId(gid, 'gid');
    switch (s.type) {
      case 'tree':
        await walkTree(s.source, normalizeLayerPath(s.path ?? '', true), s.filter, uid, gid, opts, add);
        break;
      case 'dir':
        add({ path: normalizeLayerPath(s.path), kind: 'dir', uid, gid, rank: 2 });
        break;
      case 'file':
        if ('data' in s) {
          const data = typeof s.data === 'string' ? Buffer.from(s.data, 'utf8') : Buffer.from(s.data);
          add({ path: normalizeLayerPath(s.path), kind: 'file', uid, gid, data, executable: s.executable === true, rank: 2 });
        } else {
          add({ path: normalizeLayerPath(s.path), kind: 'file', uid, gid, source: s.source, rank: 2 });
        }
        break;
      case 'symlink':
        add({ path: normalizeLayerPath(s.path), kind: 'symlink', uid, gid, target: s.target, rank: 2 });
        break;
    }
  }
  for (const e of [...byPath.values()]) {
    for (let i = e.path.lastIndexOf('/'); i > 0; i = e.path.lastIndexOf('/', i - 1)) {
      const parent = e.path.slice(0, i);
      const p = byPath.get(parent);
      if (p === undefined) add({ path: parent, kind: 'dir', uid: opts.uid, gid: opts.gid, rank: 0 });
      else if (p.kind !== 'dir') {
        throw new CairnError('INVALID_ARGUMENT', `layer path "${parent}" is a ${p.kind} but "${e.path}" is inside it`, {
          hint: 'a parent of a layer entry must be a directory',
        });
      } else break; // present parents were checked when they were added
    }
  }
  const out = [...byPath.values()];
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const e of out) e.key = ''; // only needed for sorting
  return out;
}

/**
 * Sort key: UTF-8 bytes as a latin1 string (so JS string order is byte order) with `/` mapped to NUL,
 * which no name contains: comparing keys compares paths component by component.
 */
function sortKey(path: string): string {
  return Buffer.from(path.replaceAll('/', '\0'), 'utf8').toString('latin1');
}

/** `a//b/./c/` → `a/b/c`; leading `/` dropped. `..` or NUL is INVALID_ARGUMENT; so is empty unless allowed. */
export function normalizeLayerPath(p: string, allowRoot = false): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..') || p.includes('\0') || (!allowRoot && parts.length === 0)) {
    throw new CairnError('INVALID_ARGUMENT', `invalid layer path ${JSON.stringify(p)}`, {
      hint: 'layer paths are relative POSIX paths without ".." (e.g. "cnb/buildpacks/x")',
    });
  }
  return parts.join('/');
}

function checkId(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CairnError('INVALID_ARGUMENT', `invalid ${what} ${n} for layer entries`, { hint: `${what} must be a non-negative integer` });
  }
}

/**
 * Walks a tree depth first, one directory at a time (bounded transient memory), reading each directory
 * asynchronously and symlink targets / mtimes synchronously (page-cache speed).
 */
async function walkTree(
  root: string,
  prefix: string,
  filter: ((entry: { path: string; type: TreeEntryType }) => boolean) | undefined,
  uid: number,
  gid: number,
  opts: PlanOptions,
  add: (e: Omit<PlannedEntry, 'key'>) => void,
): Promise<void> {
  let rootStat;
  try {
    rootStat = await stat(root);
  } catch (e) {
    throw ioError(`cannot read layer source directory ${root}`, e);
  }
  if (!rootStat.isDirectory()) {
    throw new CairnError('INVALID_ARGUMENT', `layer source ${root} is not a directory`, { hint: 'pass a directory as a tree source' });
  }
  if (prefix !== '') add({ path: prefix, kind: 'dir', uid, gid, rank: 1, ...(opts.wantMtimes ? { mtime: seconds(rootStat.mtimeMs) } : {}) });
  // Files keep a shared reference to the tree; their disk path is derived from their layer path.
  const tree: TreeRef = { root, skip: prefix === '' ? 0 : prefix.length + 1 };
  const pending: string[] = ['']; // directories to visit, relative to root
  while (pending.length > 0) {
    const relDir = pending.pop()!;
    const absDir = relDir === '' ? root : join(root, relDir);
    let dirents;
    try {
      dirents = await readdir(absDir, { withFileTypes: true });
    } catch (e) {
      throw ioError(`cannot list ${absDir}`, e);
    }
    for (const d of dirents) {
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      const type: TreeEntryType = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'symlink' : 'other';
      if (filter && !filter({ path: rel, type })) continue;
      const path = prefix === '' ? rel : `${prefix}/${rel}`;
      const abs = (): string => join(absDir, d.name);
      switch (type) {
        case 'file':
          add({ path, kind: 'file', uid, gid, tree, rank: 1 });
          break;
        case 'dir':
          add({ path, kind: 'dir', uid, gid, rank: 1, ...(opts.wantMtimes ? { mtime: lstatMtime(abs()) } : {}) });
          pending.push(rel);
          break;
        case 'symlink': {
          let target: string;
          try {
            target = readlinkSync(abs());
          } catch (e) {
            throw ioError(`cannot read symlink ${abs()}`, e);
          }
          add({ path, kind: 'symlink', uid, gid, target, rank: 1, ...(opts.wantMtimes ? { mtime: lstatMtime(abs()) } : {}) });
          break;
        }
        case 'other':
          opts.onSkip?.(path, d.isSocket() ? 'socket' : d.isFIFO() ? 'fifo' : d.isCharacterDevice() ? 'char-device' : d.isBlockDevice() ? 'block-device' : 'unknown');
          break;
      }
    }
  }
}

function lstatMtime(p: string): number {
  try {
    return seconds(lstatSync(p).mtimeMs);
  } catch (e) {
    throw ioError(`cannot stat ${p}`, e);
  }
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export function ioError(message: string, cause: unknown): CairnError {
  return new CairnError('IO', `${message}: ${messageOf(cause)}`, { cause, hint: 'check that the path exists and is readable' });
}
