/**
 * A root filesystem tree being composed on disk, plus a table of every entry in it with the metadata a
 * layer needs (type, mode, owner, link target). The table, not the disk, is authoritative for metadata:
 * owners are recorded but not applied (cairn need not run as root), and modes are applied with chmod so
 * the umask does not leak in.
 *
 * Paths are resolved the way a process chrooted into the tree would see them (dpkg unpacks `./lib/x` into
 * `usr/lib/x` when `lib` is a symlink to `usr/lib`): every symlink met on the way is followed inside the
 * tree, absolute targets restart at the tree root and `..` stops at it. Resolution uses the table only,
 * never the disk, so no write can land outside the root whatever symlinks the packages contain.
 *
 * File operations are synchronous on purpose: a build image is tens of thousands of small files, and
 * sync calls cost a fraction of promise-based ones.
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CairnError } from '../oci/errors.js';

export type TreeEntryKind = 'dir' | 'file' | 'symlink';

export interface TreeEntry {
  /** Canonical path relative to the root, without leading `/` (no symlink in any parent). */
  path: string;
  kind: TreeEntryKind;
  /** Permission bits including setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Symlink target, as written. */
  target?: string;
  /** For a file that is a hard link: the canonical path of the file it links to (which comes first). */
  hardlinkTo?: string;
}

export interface Owner {
  mode: number;
  uid?: number;
  gid?: number;
  /** Modification time (seconds since the epoch) to give a regular file on disk, as dpkg keeps it. */
  mtime?: number;
}

const MAX_SYMLINKS = 40;

export class RootTree {
  private readonly table = new Map<string, TreeEntry>();
  /** Paths that other entries hard-link to. */
  private readonly linked = new Set<string>();

  /** `root` must be an empty or missing folder. */
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    if (readdirSync(root).length > 0) {
      throw new CairnError('INVALID_ARGUMENT', `root folder ${root} is not empty`, { hint: 'compose into a fresh folder' });
    }
    chmodSync(root, 0o755);
  }

  /**
   * All entries, sorted by path (bytewise, component-wise). In each group of hard links the first path in
   * this order is the plain file and the others point to it, so a tar written in this order is valid.
   */
  entries(): TreeEntry[] {
    const sorted = [...this.table.values()]
      .map((e) => ({ e, key: pathSortKey(e.path) }))
      .sort((a, b) => Buffer.compare(a.key, b.key))
      .map((x) => ({ ...x.e }));
    const primary = new Map<string, string>();
    for (const e of sorted) {
      if (e.kind !== 'file') continue;
      const group = e.hardlinkTo ?? e.path;
      if (e.hardlinkTo === undefined && !this.linked.has(e.path)) continue;
      const first = primary.get(group);
      if (first === undefined) {
        primary.set(group, e.path);
        delete e.hardlinkTo;
      } else e.hardlinkTo = first;
    }
    return sorted;
  }

  /** The entry at a canonical path (no symlink resolution), or undefined. */
  entry(path: string): TreeEntry | undefined {
    return this.table.get(path);
  }

  /** Disk path of a canonical tree path. */
  hostPath(canonical: string): string {
    return canonical === '' ? this.root : join(this.root, canonical);
  }

  /**
   * Resolves a tree path (absolute or relative to the root) to its canonical form, following symlinks in
   * parents and, when `followLast`, in the last component. Missing components are kept as they are.
   * Throws UNSAFE_ARCHIVE_ENTRY on a symlink loop.
   */
  resolve(path: string, followLast: boolean): string {
    let pending = splitPath(path);
    const out: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        out.pop();
        continue;
      }
      const candidate = [...out, part].join('/');
      const e = this.table.get(candidate);
      if (e?.kind === 'symlink' && (pending.length > 0 || followLast)) {
        if (++links > MAX_SYMLINKS) throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `too many levels of symbolic links resolving /${path}`);
        const target = e.target!;
        if (target.startsWith('/')) out.length = 0;
        pending = [...splitPath(target), ...pending];
        continue;
      }
      out.push(part);
    }
    return out.join('/');
  }

  /** Creates a directory (and missing parents, 0755 root). An existing directory gets the new metadata;
   * a symlink to a directory is kept as it is (dpkg's behaviour for `lib` → `usr/lib`). */
  mkdir(path: string, owner: Owner): string {
    const parent = this.ensureParent(path);
    const name = lastComponent(path);
    if (name === undefined) return '';
    const canonical = join2(parent, name);
    const existing = this.table.get(canonical);
    if (existing?.kind === 'symlink') {
      const to = this.table.get(this.resolve(canonical, true));
      if (to?.kind === 'dir') return canonical;
      throw conflict(path, 'a symlink to something else than a directory');
    }
    if (existing?.kind === 'file') throw conflict(path, 'a file');
    if (!existing) mkdirSync(this.hostPath(canonical));
    chmodSync(this.hostPath(canonical), owner.mode);
    this.table.set(canonical, { path: canonical, kind: 'dir', mode: owner.mode, uid: owner.uid ?? 0, gid: owner.gid ?? 0 });
    return canonical;
  }

  /** Writes a regular file, replacing a file or symlink at that path. */
  writeFile(path: string, data: Uint8Array | string, owner: Owner): string {
    const canonical = this.prepareLeaf(path);
    writeFileSync(this.hostPath(canonical), data, { mode: owner.mode & 0o777 });
    chmodSync(this.hostPath(canonical), owner.mode);
    if (owner.mtime !== undefined) utimesSync(this.hostPath(canonical), owner.mtime, owner.mtime);
    this.table.set(canonical, { path: canonical, kind: 'file', mode: owner.mode, uid: owner.uid ?? 0, gid: owner.gid ?? 0 });
    return canonical;
  }

  /** Creates a symlink (its target is stored as given, never resolved now), replacing a file or symlink. */
  symlink(path: string, target: string, owner: Omit<Owner, 'mode'> = {}): string {
    if (target === '') throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `symlink /${path} has an empty target`);
    const existingCanonical = join2(this.ensureParent(path), lastComponent(path) ?? '');
    const existing = this.table.get(existingCanonical);
    if (existing?.kind === 'symlink' && existing.target === target) return existingCanonical;
    const canonical = this.prepareLeaf(path);
    symlinkSync(target, this.hostPath(canonical));
    this.table.set(canonical, { path: canonical, kind: 'symlink', mode: 0o777, uid: owner.uid ?? 0, gid: owner.gid ?? 0, target });
    return canonical;
  }

  /** Creates a hard link to an existing regular file of the tree. */
  hardlink(path: string, existingPath: string): string {
    const to = this.resolve(existingPath, false);
    const toEntry = this.table.get(to);
    if (toEntry?.kind !== 'file') {
      throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `hard link /${path} points to /${existingPath}, which is not a regular file in the tree`);
    }
    const canonical = this.prepareLeaf(path);
    linkSync(this.hostPath(to), this.hostPath(canonical));
    const group = toEntry.hardlinkTo ?? to;
    this.linked.add(group);
    this.table.set(canonical, { ...toEntry, path: canonical, hardlinkTo: group });
    return canonical;
  }

  /** Reads a file (following symlinks), or undefined when there is none. */
  readFile(path: string): Buffer | undefined {
    const canonical = this.resolve(path, true);
    if (this.table.get(canonical)?.kind !== 'file') return undefined;
    return readFileSync(this.hostPath(canonical));
  }

  /** The kind of what `path` resolves to (following symlinks), or undefined. */
  kindOf(path: string, followLast = true): TreeEntryKind | undefined {
    const canonical = this.resolve(path, followLast);
    return canonical === '' ? 'dir' : this.table.get(canonical)?.kind;
  }

  /** Canonical paths of the entries directly or indirectly under a directory (following it if a symlink). */
  walk(dir: string): TreeEntry[] {
    const base = this.resolve(dir, true);
    const prefix = base === '' ? '' : base + '/';
    return this.entries().filter((e) => e.path.startsWith(prefix) && e.path !== base);
  }

  /**
   * Rebuilds the table from the disk after something else changed the tree (e.g. `dpkg --configure` in a
   * sandbox): kinds, modes and symlink targets come from the disk; owners are kept for paths whose kind
   * did not change and are root for new ones; files sharing an inode become hard links to the first path.
   * Throws UNSAFE_ARCHIVE_ENTRY on sockets, FIFOs and devices.
   */
  rescan(): void {
    const old = new Map(this.table);
    this.table.clear();
    this.linked.clear();
    const inodes = new Map<string, string>();
    const visit = (rel: string): void => {
      for (const name of readdirSync(this.hostPath(rel)).sort()) {
        const path = join2(rel, name);
        const st = lstatSync(this.hostPath(path));
        const kind: TreeEntryKind | undefined = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : undefined;
        if (!kind) throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `/${path} is a socket, FIFO or device node; image trees hold none`);
        const prev = old.get(path);
        const owned = prev?.kind === kind ? { uid: prev.uid, gid: prev.gid } : { uid: 0, gid: 0 };
        const entry: TreeEntry = { path, kind, mode: kind === 'symlink' ? 0o777 : st.mode & 0o7777, ...owned };
        if (kind === 'symlink') entry.target = readlinkSync(this.hostPath(path));
        if (kind === 'file' && st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = inodes.get(key);
          if (first === undefined) inodes.set(key, path);
          else {
            entry.hardlinkTo = first;
            this.linked.add(first);
          }
        }
        this.table.set(path, entry);
        if (kind === 'dir') visit(path);
      }
    };
    visit('');
  }

  /** Resolves the parent of `path` and creates missing parent directories (0755, root). */
  private ensureParent(path: string): string {
    const parts = splitPath(path);
    parts.pop();
    let cur = '';
    for (const part of parts) {
      cur = this.resolve(join2(cur, part), true);
      // `cur` is canonical, but a symlink may have led into folders that do not exist yet.
      let prefix = '';
      for (const c of splitPath(cur)) {
        prefix = join2(prefix, c);
        const e = this.table.get(prefix);
        if (!e) {
          mkdirSync(this.hostPath(prefix));
          chmodSync(this.hostPath(prefix), 0o755);
          this.table.set(prefix, { path: prefix, kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
        } else if (e.kind !== 'dir') {
          throw conflict(path, `a ${e.kind} at /${prefix} where a directory is needed`);
        }
      }
    }
    return cur;
  }

  /** The hard-link group of a removed path continues under its first remaining member. */
  private promoteLinks(removed: string): void {
    const members = [...this.table.values()].filter((e) => e.hardlinkTo === removed);
    const head = members.shift();
    if (!head) return;
    delete head.hardlinkTo;
    for (const m of members) m.hardlinkTo = head.path;
    if (members.length > 0) this.linked.add(head.path);
  }

  /** Canonical path for a new leaf: parent resolved and created, existing file or symlink removed. */
  private prepareLeaf(path: string): string {
    const name = lastComponent(path);
    if (name === undefined) throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `cannot replace the root directory with "${path}"`);
    const canonical = join2(this.ensureParent(path), name);
    const existing = this.table.get(canonical);
    if (existing?.kind === 'dir') throw conflict(path, 'a directory');
    if (existing) {
      rmSync(this.hostPath(canonical), { force: true });
      this.table.delete(canonical);
      if (this.linked.delete(canonical)) this.promoteLinks(canonical);
    }
    return canonical;
  }
}

/**
 * Splits a tree path into components: leading `/` and `./` dropped, `.` and empty components skipped.
 * `..` components are kept for `resolve`, which clamps them at the root.
 */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function lastComponent(path: string): string | undefined {
  const parts = splitPath(path);
  const last = parts[parts.length - 1];
  if (last === '..') throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `path "${path}" ends in ".."`);
  return last;
}

function join2(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a}/${b}`;
}

function conflict(path: string, what: string): CairnError {
  return new CairnError('UNSAFE_ARCHIVE_ENTRY', `cannot create /${splitPath(path).join('/')}: ${what} is in the way`, {
    hint: 'two packages disagree about this path; remove one of them from stack.toml',
  });
}

/**
 * Sort key giving bytewise, component-by-component path order (parents before children, `a/b` before
 * `a-b`): the UTF-8 path with `/` replaced by NUL, which sorts below every other byte.
 */
export function pathSortKey(path: string): Buffer {
  return Buffer.from(path.replaceAll('/', '\0'));
}
