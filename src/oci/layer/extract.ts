/**
 * Safe extraction of untrusted layers (tar or tar+gzip) into a root folder, applying OCI whiteouts
 * (image-spec layer.md "Representing Changes" and "Whiteouts"). Successive layers extracted into the same
 * root give the image's filesystem.
 *
 * Safety contract — nothing is ever created, changed or removed outside `root`:
 * - entry and hardlink names: a leading `/` is dropped (absolute names are taken relative to the root),
 *   `.` components are ignored, and any `..` component is rejected (UNSAFE_ARCHIVE_ENTRY);
 * - the parent folders of an entry are resolved one component at a time with lstat. A symlink met on the
 *   way (from this layer or an earlier one) is followed *inside* the root, as if the root were `/`
 *   (absolute targets start at the root, `..` stops at the root; chroot semantics, as containerd's
 *   RootPath); more than 40 links in one resolution is UNSAFE_ARCHIVE_ENTRY. The final component is never
 *   followed: an existing symlink, file or (for non-directories) directory there is removed first and
 *   files are created with O_EXCL|O_NOFOLLOW, so a write never goes through a link or into another inode;
 * - hardlink targets are resolved the same way and must be an existing regular file (a symlink target is
 *   copied as a symlink); whiteouts remove only what resolves inside the root;
 * - character and block devices are refused (`devices`: 'error' by default, or 'skip' with a warning);
 *   FIFOs are skipped with a warning (or refused with `fifos: 'error'`); unknown entry types are skipped;
 * - setuid/setgid bits are removed with `stripSetid`; owners are applied only with `preserveOwnership`
 *   when running as root, otherwise files belong to the current user.
 *
 * Whiteouts: `.wh.<name>` removes `<name>` from lower layers; `.wh..wh..opq` removes every lower-layer
 * entry of its folder; both apply only to what earlier layers (earlier calls) left, never to what the
 * same layer wrote, whatever their order in the archive. Other `.wh..wh.*` names (AUFS metadata) are ignored.
 *
 * Symlinks are created verbatim: the extracted tree is meant to be used as a root (e.g. in a sandbox).
 * Code outside must not follow symlinks found in it. On error the root is left partly extracted; callers
 * extract into a fresh folder and discard it on failure.
 *
 * Metadata calls are synchronous (page-cache speed, far below a thread-pool round trip); bodies over
 * 256 KiB are written with asynchronous writes as they stream in.
 */
import {
  chmodSync, closeSync, constants as fsc, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, unlinkSync,
  utimesSync, write, writeSync, chownSync, type Stats,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { CairnError, messageOf } from '../errors.js';
import { tarBytes, TarReader, type TarEntry } from './tar-reader.js';

export interface ExtractOptions {
  /** Remove setuid and setgid bits from every entry. */
  stripSetid?: boolean;
  /** Apply the archive's uid/gid (only when running as root; ignored otherwise). */
  preserveOwnership?: boolean;
  /** Character/block device entries: 'error' (default) or 'skip' with a warning. */
  devices?: 'error' | 'skip';
  /** FIFO entries: 'skip' with a warning (default) or 'error'. */
  fifos?: 'error' | 'skip';
  /** Receives warnings (skipped entries). */
  onWarning?: (message: string) => void;
  /** Fail with INVALID_ARCHIVE when the uncompressed tar exceeds this many bytes. */
  maxBytes?: number;
}

export interface ExtractStats {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  whiteouts: number;
  skipped: number;
  /** Bytes of file content written. */
  bytes: number;
}

const MAX_LINKS = 40; // Linux MAXSYMLINKS
const SMALL = 256 * 1024;

/**
 * Extracts one layer into `root` (created if missing). Whiteouts in this layer act on what earlier
 * calls left in `root`.
 */
export async function extractLayer(input: Readable | AsyncIterable<Buffer>, root: string, options: ExtractOptions = {}): Promise<ExtractStats> {
  let realRoot: string;
  try {
    mkdirSync(root, { recursive: true });
    realRoot = realpathSync(root);
    if (!lstatSync(realRoot).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new CairnError('IO', `cannot use ${root} as extraction root: ${messageOf(e)}`, { cause: e, hint: 'pass a writable directory' });
  }
  const reader = new TarReader(tarBytes(input), options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
  const x = new Extractor(realRoot, reader, options);
  try {
    for (;;) {
      const entry = await reader.next();
      if (entry === null) break;
      x.stats.entries++;
      await x.apply(entry);
    }
    x.finishDirs();
  } catch (e) {
    await reader.close();
    throw e;
  }
  return x.stats;
}

interface DirMeta {
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
}

class Extractor {
  readonly stats: ExtractStats = { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, skipped: 0, bytes: 0 };
  /** Root-relative real paths this layer created or wrote (whiteouts must not touch them). */
  private readonly created = new Set<string>();
  /** Logical folder path (as named in the archive) → root-relative real path; cleared on any removal. */
  private readonly dirs = new Map<string, string>();
  /** Folder modes and times, applied once the layer is complete (children change a folder's mtime). */
  private readonly dirMeta = new Map<string, DirMeta>();
  private readonly chown: boolean;

  constructor(private readonly root: string, private readonly reader: TarReader, private readonly opts: ExtractOptions) {
    this.chown = opts.preserveOwnership === true && process.getuid?.() === 0;
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  async apply(e: TarEntry): Promise<void> {
    const comps = splitPath(e.path, e);
    const base = comps.pop();
    if (base === undefined) {
      if (e.type === 'dir') return; // the root itself ("./"): nothing to do
      throw unsafe(e, 'names the extraction root itself');
    }
    if (base.startsWith('.wh.')) return this.whiteout(e, comps, base);
    if (e.type === 'char-device' || e.type === 'block-device') return this.special(e, this.opts.devices ?? 'error', 'device node');
    if (e.type === 'fifo') return this.special(e, this.opts.fifos ?? 'skip', 'FIFO');
    if (e.type === 'unknown') {
      this.warn(`skipped archive entry ${q(e.path)} of unknown type ${JSON.stringify(String.fromCharCode(e.typeflag))}`);
      this.stats.skipped++;
      return;
    }
    try {
      const rel = join(this.resolveDir(comps, true, e)!, base);
      const logical = [...comps, base].join('/');
      switch (e.type) {
        case 'dir': return this.dir(e, rel, logical);
        case 'file': return await this.file(e, rel);
        case 'symlink': return this.symlink(e, rel);
        case 'hardlink': return this.hardlink(e, rel);
      }
    } catch (err) {
      throw wrap(err, e);
    }
  }

  private mode(e: TarEntry): number {
    return this.opts.stripSetid ? e.mode & ~0o6000 : e.mode;
  }

  private dir(e: TarEntry, rel: string, logical: string): void {
    const st = this.clear(rel, true);
    if (st === null) mkdirSync(this.abs(rel), 0o700);
    chmodSync(this.abs(rel), this.mode(e) | 0o700); // writable for its children until finishDirs
    this.created.add(rel);
    this.dirs.set(logical, rel);
    this.dirMeta.set(rel, { mode: this.mode(e), mtime: e.mtime, uid: e.uid, gid: e.gid });
    this.stats.dirs++;
  }

  private async file(e: TarEntry, rel: string): Promise<void> {
    const abs = this.abs(rel);
    let small: Buffer | undefined;
    if (e.size <= SMALL) {
      const parts: Buffer[] = [];
      for await (const c of this.reader.body()) parts.push(c);
      small = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    this.clear(rel, false);
    const fd = openSync(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    this.created.add(rel);
    try {
      if (small) {
        for (let off = 0; off < small.length;) off += writeSync(fd, small, off);
      } else {
        for await (const c of this.reader.body()) await writeAll(fd, c);
      }
      if (this.chown) fchownSync(fd, e.uid, e.gid); // before chmod: chown clears setuid/setgid
      fchmodSync(fd, this.mode(e));
      futimesSync(fd, e.mtime, e.mtime);
    } finally {
      closeSync(fd);
    }
    this.stats.files++;
    this.stats.bytes += e.size;
  }

  private symlink(e: TarEntry, rel: string): void {
    if (e.linkname === '') throw invalid(e, 'symlink with an empty target');
    this.clear(rel, false);
    symlinkSync(e.linkname, this.abs(rel));
    this.created.add(rel);
    if (this.chown) lchownSync(this.abs(rel), e.uid, e.gid);
    lutimesSync(this.abs(rel), e.mtime, e.mtime);
    this.stats.symlinks++;
  }

  private hardlink(e: TarEntry, rel: string): void {
    const tcomps = splitPath(e.linkname, e);
    const tbase = tcomps.pop();
    if (tbase === undefined) throw unsafe(e, 'is a hardlink to the extraction root');
    const tparent = this.resolveDir(tcomps, false, e);
    const trel = tparent === null ? null : join(tparent, tbase);
    const tst = trel === null ? null : lstatOrNull(this.abs(trel));
    if (trel === null || tst === null) throw invalid(e, `hardlink target ${q(e.linkname)} does not exist`);
    if (trel === rel) return; // a link to itself changes nothing
    if (!tst.isFile() && !tst.isSymbolicLink()) throw invalid(e, `hardlink target ${q(e.linkname)} is not a regular file`);
    this.clear(rel, false);
    if (tst.isSymbolicLink()) symlinkSync(readlinkSync(this.abs(trel)), this.abs(rel));
    else linkSync(this.abs(trel), this.abs(rel));
    this.created.add(rel);
    this.stats.hardlinks++;
  }

  private special(e: TarEntry, policy: 'error' | 'skip', what: string): void {
    if (policy === 'error') throw unsafe(e, `is a ${what}, which cairn does not create`);
    this.warn(`skipped ${what} ${q(e.path)}`);
    this.stats.skipped++;
  }

  /** OCI whiteouts: `.wh.<name>` and the opaque marker `.wh..wh..opq`. */
  private whiteout(e: TarEntry, comps: string[], base: string): void {
    try {
      if (base === '.wh..wh..opq') {
        const dir = this.resolveDir(comps, true, e)!;
        this.created.add(dir);
        this.opaque(dir);
        this.stats.whiteouts++;
        return;
      }
      if (base.startsWith('.wh..wh.')) return; // AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): ignored
      this.stats.whiteouts++;
      const name = base.slice('.wh.'.length);
      if (name === '' || name === '.' || name === '..') throw unsafe(e, 'is a whiteout of an invalid name');
      const dir = this.resolveDir(comps, false, e);
      if (dir === null) return; // nothing there to hide
      const rel = join(dir, name);
      if (this.created.has(rel)) return; // written by this same layer: whiteouts only hide lower layers
      this.remove(rel);
    } catch (err) {
      throw wrap(err, e);
    }
  }

  /** Removes every entry under `dir` that this layer did not write. */
  private opaque(dir: string): void {
    for (const name of readdirSync(this.abs(dir))) {
      const rel = join(dir, name);
      if (!this.created.has(rel)) this.remove(rel);
      else if (lstatSync(this.abs(rel)).isDirectory()) this.opaque(rel);
    }
  }

  /** Removes whatever is at rel (never following a symlink). */
  private remove(rel: string): void {
    const st = lstatOrNull(this.abs(rel));
    if (st === null) return;
    if (st.isDirectory()) rmSync(this.abs(rel), { recursive: true, force: true });
    else unlinkSync(this.abs(rel));
    if (st.isDirectory() || st.isSymbolicLink()) this.dirs.clear();
    this.dirMeta.delete(rel);
  }

  /**
   * Makes room for a new entry at rel: keeps an existing directory when the new entry is one (returns
   * its stats), otherwise removes what is there (returns null).
   */
  private clear(rel: string, forDir: boolean): Stats | null {
    const st = lstatOrNull(this.abs(rel));
    if (st === null) return null;
    if (forDir && st.isDirectory()) return st;
    this.remove(rel);
    return null;
  }

  /**
   * Resolves folder components to a root-relative real path, component by component with lstat, following
   * symlinks inside the root. Missing folders are created (mode 0755) when `create`, else null is returned;
   * a non-folder on the way is INVALID_ARCHIVE when `create`, else null.
   */
  private resolveDir(comps: string[], create: boolean, e: TarEntry): string | null {
    const key = comps.join('/');
    const hit = this.dirs.get(key);
    if (hit !== undefined) return hit;
    let start = 0;
    let stack: string[] = [];
    for (let i = comps.length - 1; i > 0; i--) {
      const cached = this.dirs.get(comps.slice(0, i).join('/'));
      if (cached !== undefined) {
        start = i;
        stack = cached === '' ? [] : cached.split('/');
        break;
      }
    }
    let links = 0;
    for (let i = start; i < comps.length; i++) {
      const queue = [comps[i]!];
      while (queue.length > 0) {
        const c = queue.shift()!;
        if (c === '' || c === '.') continue;
        if (c === '..') {
          stack.pop(); // at the root, ".." stays at the root
          continue;
        }
        const rel = stack.length === 0 ? c : `${stack.join('/')}/${c}`;
        const st = lstatOrNull(this.abs(rel));
        if (st === null) {
          if (!create) return null;
          try {
            mkdirSync(this.abs(rel), 0o755);
            chmodSync(this.abs(rel), 0o755);
          } catch (err) {
            throw wrap(err, e);
          }
          this.created.add(rel);
          stack.push(c);
        } else if (st.isSymbolicLink()) {
          if (++links > MAX_LINKS) throw unsafe(e, 'goes through too many levels of symbolic links');
          const target = readlinkSync(this.abs(rel));
          if (target.startsWith('/')) stack = [];
          queue.unshift(...target.split('/'));
        } else if (st.isDirectory()) {
          stack.push(c);
        } else {
          if (!create) return null;
          throw invalid(e, `its parent ${q(rel)} is not a directory`);
        }
      }
      this.dirs.set(comps.slice(0, i + 1).join('/'), stack.join('/'));
    }
    return stack.join('/');
  }

  /**
   * Applies folder modes, owners and mtimes recorded during the layer (deepest first). A folder is skipped
   * unless it and every folder above it are still real folders: a later entry may have replaced one of
   * them with a symlink, and chmod/utimes through it would reach outside the root.
   */
  finishDirs(): void {
    const real = new Map<string, boolean>();
    const isRealDir = (rel: string): boolean => {
      let ok = real.get(rel);
      if (ok === undefined) {
        const i = rel.lastIndexOf('/');
        ok = (i < 0 || isRealDir(rel.slice(0, i))) && (lstatOrNull(this.abs(rel))?.isDirectory() ?? false);
        real.set(rel, ok);
      }
      return ok;
    };
    const rels = [...this.dirMeta.keys()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    for (const rel of rels) {
      const m = this.dirMeta.get(rel)!;
      const abs = this.abs(rel);
      if (!isRealDir(rel)) continue; // replaced later in the layer
      if (this.chown) chownSync(abs, m.uid, m.gid);
      chmodSync(abs, m.mode);
      utimesSync(abs, m.mtime, m.mtime);
    }
  }

  private warn(message: string): void {
    this.opts.onWarning?.(message);
  }
}

/** Splits an archive path into components: drops a leading `/` and `.`; rejects `..`. */
function splitPath(p: string, e: TarEntry): string[] {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw unsafe(e, p === e.path ? 'leaves the extraction root ("..")' : `links to ${q(p)}, outside the extraction root ("..")`);
    out.push(c);
  }
  return out;
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      if (off >= buf.length) return resolve();
      write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : step(off + n)));
    };
    step(0);
  });
}

function q(p: string): string {
  return JSON.stringify(p);
}

function unsafe(e: TarEntry, why: string): CairnError {
  return new CairnError('UNSAFE_ARCHIVE_ENTRY', `unsafe archive entry ${q(e.path)}: ${why}`, {
    hint: 'the layer is malformed or hostile; nothing was written outside the extraction root',
  });
}

function invalid(e: TarEntry, why: string): CairnError {
  return new CairnError('INVALID_ARCHIVE', `invalid archive entry ${q(e.path)}: ${why}`, {
    hint: 'the layer does not apply on top of the layers below it, or it is corrupt',
  });
}

function wrap(err: unknown, e: TarEntry): CairnError {
  if (err instanceof CairnError) return err;
  return new CairnError('IO', `cannot extract ${q(e.path)}: ${messageOf(err)}`, { cause: err, hint: 'check free disk space and permissions of the extraction root' });
}
