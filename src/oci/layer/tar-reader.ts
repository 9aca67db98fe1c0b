/**
 * A streaming tar parser for untrusted input. It yields one entry at a time, with PAX ('x') and GNU
 * long name/link ('L', 'K') overrides already applied, and lets the caller stream the entry's body.
 * Nothing here touches the filesystem: `extract.ts` decides what an entry may do.
 *
 * Contract: every malformed or truncated archive raises INVALID_ARCHIVE naming the entry; an entry's
 * `path` and `linkname` are returned verbatim (no normalisation) except that a NUL byte in either is an
 * error; after the end-of-archive marker the rest of the input is read and discarded, so a digest-checking
 * stream upstream sees all of its bytes.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CairnError, messageOf } from '../errors.js';
import { BLOCK, decodeHeader, decodePax, paddingFor, TypeFlag } from './tar-header.js';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo' | 'unknown';

/** One archive entry, as the archive states it. */
export interface TarEntry {
  /** Path as written in the archive (after PAX / GNU long-name overrides), not normalised. */
  path: string;
  type: TarEntryType;
  /** The raw type flag byte (useful for 'unknown'). */
  typeflag: number;
  /** Permission bits including setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Body size in bytes (0 for everything but files). */
  size: number;
  /** Modification time, seconds since the epoch (fractional when PAX says so). */
  mtime: number;
  /** Symlink target or hardlink target path; empty for other types. */
  linkname: string;
  devmajor: number;
  devminor: number;
}

export interface TarReaderOptions {
  /** Fail with INVALID_ARCHIVE once more than this many uncompressed bytes were read (bomb guard). */
  maxBytes?: number;
}

/** Buffers an async chunk source and hands out exact byte counts. */
class ByteSource {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  consumed = 0;

  constructor(private readonly it: AsyncIterator<Buffer>, private readonly maxBytes: number) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.consumed += chunk.length;
    if (this.consumed > this.maxBytes) {
      throw new CairnError('INVALID_ARCHIVE', `archive expands to more than ${this.maxBytes} bytes`, {
        hint: 'the layer is larger than the configured limit (possible decompression bomb)',
      });
    }
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Exactly n bytes, or null when the input ended before any byte; throws when it ends part way. */
  async exactly(n: number, what: () => string): Promise<Buffer | null> {
    while (this.buffered < n) {
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw truncated(what());
      }
    }
    return this.take(n);
  }

  /** Up to `max` (> 0) bytes that are already buffered or arrive next; throws at end of input. */
  async some(max: number, what: () => string): Promise<Buffer> {
    while (this.buffered === 0) if (!(await this.fill())) throw truncated(what());
    return this.take(Math.min(max, this.buffered));
  }

  async skip(n: number, what: () => string): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.some(left, what)).length;
  }

  async drain(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    while (await this.fill()) {
      this.chunks = [];
      this.buffered = 0;
    }
  }

  /** Stops reading and releases the source (destroys a Readable). */
  async close(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      this.buffered -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

function truncated(what: string): CairnError {
  return new CairnError('INVALID_ARCHIVE', `truncated archive: input ended inside ${what}`, {
    hint: 'the layer is incomplete or corrupt; fetch it again',
  });
}

function invalid(message: string): CairnError {
  return new CairnError('INVALID_ARCHIVE', message, { hint: 'the archive is corrupt or not a tar archive' });
}

const MAX_META = 1 << 20; // bound on PAX / GNU long-name bodies held in memory

/**
 * Reads entries one by one. Call `next()` for the next entry; between calls, optionally read the current
 * entry's body with `body()` (unread body bytes are skipped).
 */
export class TarReader {
  private readonly src: ByteSource;
  private remaining = 0; // body bytes of the current entry not yet read
  private padding = 0;
  private current = '';
  private index = 0;

  constructor(source: AsyncIterable<Buffer>, options: TarReaderOptions = {}) {
    this.src = new ByteSource(source[Symbol.asyncIterator](), options.maxBytes ?? Infinity);
  }

  /** The next entry, or null at the end of the archive (the rest of the input is then drained). */
  async next(): Promise<TarEntry | null> {
    await this.src.skip(this.remaining + this.padding, () => `the body of ${this.current}`);
    this.remaining = 0;
    this.padding = 0;
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const where = `entry #${this.index + 1}${this.current ? ` (after ${this.current})` : ''}`;
      const block = await this.src.exactly(BLOCK, () => `the header of ${where}`);
      if (block === null) return null; // end of input without the zero blocks: accepted, like GNU tar
      const h = decodeHeader(block, where);
      if (h === null) {
        await this.src.drain();
        return null;
      }
      const meta = h.typeflag === TypeFlag.PaxExtended || h.typeflag === TypeFlag.PaxGlobal ||
        h.typeflag === TypeFlag.GnuLongName || h.typeflag === TypeFlag.GnuLongLink;
      if (meta) {
        if (h.size > MAX_META) throw invalid(`${where}: extended header of ${h.size} bytes is too large`);
        const data = (await this.src.exactly(h.size, () => `the extended header of ${where}`)) ?? Buffer.alloc(0);
        if (data.length !== h.size) throw truncated(`the extended header of ${where}`);
        await this.src.skip(paddingFor(h.size), () => `the extended header of ${where}`);
        if (h.typeflag === TypeFlag.PaxExtended) pax = new Map([...pax, ...decodePax(data, where)]);
        else if (h.typeflag === TypeFlag.GnuLongName) longName = longString(data, where);
        else if (h.typeflag === TypeFlag.GnuLongLink) longLink = longString(data, where);
        // A PAX global header ('g') only carries defaults cairn does not use; it is read and ignored.
        continue;
      }
      this.index++;
      const path = pax.get('path') ?? longName ?? h.name.toString('utf8');
      const linkname = pax.get('linkpath') ?? longLink ?? h.linkname.toString('utf8');
      this.current = JSON.stringify(path);
      if (path.includes('\0') || linkname.includes('\0')) {
        throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `archive entry ${JSON.stringify(path)} has a NUL byte in its name or link target`, {
          hint: 'the archive is malformed or hostile; it was not extracted',
        });
      }
      if (path === '') throw invalid(`${where}: entry with an empty name`);
      for (const k of pax.keys()) {
        if (k.startsWith('GNU.sparse.')) throw invalid(`archive entry ${this.current}: GNU sparse files are not supported`);
      }
      const size = paxNumber(pax, 'size', where) ?? h.size;
      const type = entryType(h.typeflag, path);
      if (h.typeflag === 0x53) throw invalid(`archive entry ${this.current}: GNU sparse files are not supported`);
      const entry: TarEntry = {
        path,
        type,
        typeflag: h.typeflag,
        mode: h.mode & 0o7777,
        uid: paxNumber(pax, 'uid', where) ?? h.uid,
        gid: paxNumber(pax, 'gid', where) ?? h.gid,
        // Only regular files have a body for cairn; other types' size is skipped as padding-aligned data.
        size: type === 'file' ? size : 0,
        mtime: paxTime(pax, where) ?? h.mtime,
        linkname: type === 'symlink' || type === 'hardlink' ? linkname : '',
        devmajor: h.devmajor,
        devminor: h.devminor,
      };
      // Bodies of non-file entries (a hardlink may carry one in PAX archives) are skipped, never used.
      this.remaining = size;
      this.padding = paddingFor(size);
      return entry;
    }
  }

  /** Streams the current entry's body (regular files). Must be fully consumed before `next()` to be used. */
  async *body(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const chunk = await this.src.some(this.remaining, () => `the body of ${this.current}`);
      this.remaining -= chunk.length;
      yield chunk;
    }
  }

  /** Stops reading early and releases the input. */
  async close(): Promise<void> {
    await this.src.close();
  }

  /** Uncompressed bytes read so far. */
  get bytesRead(): number {
    return this.src.consumed;
  }
}

function entryType(flag: number, path: string): TarEntryType {
  switch (flag) {
    case TypeFlag.File:
    case TypeFlag.Contiguous:
      return 'file';
    case TypeFlag.OldFile:
      return path.endsWith('/') ? 'dir' : 'file'; // v7 archives mark directories with a trailing slash
    case TypeFlag.Hardlink: return 'hardlink';
    case TypeFlag.Symlink: return 'symlink';
    case TypeFlag.CharDevice: return 'char-device';
    case TypeFlag.BlockDevice: return 'block-device';
    case TypeFlag.Dir: return 'dir';
    case TypeFlag.Fifo: return 'fifo';
    default: return 'unknown';
  }
}

/** A GNU long name body: the name, ended by NUL (anything after the first NUL must be NUL too). */
function longString(data: Buffer, where: string): string {
  const nul = data.indexOf(0);
  if (nul >= 0 && data.subarray(nul).some((b) => b !== 0)) {
    throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `${where}: GNU long name has a NUL byte inside it`, {
      hint: 'the archive is malformed or hostile; it was not extracted',
    });
  }
  return data.toString('utf8', 0, nul < 0 ? data.length : nul);
}

function paxNumber(pax: Map<string, string>, key: string, where: string): number | undefined {
  const v = pax.get(key);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) throw invalid(`${where}: malformed PAX ${key} "${v}"`);
  return Number(v);
}

function paxTime(pax: Map<string, string>, where: string): number | undefined {
  const v = pax.get('mtime');
  if (v === undefined) return undefined;
  if (!/^-?[0-9]{1,16}(\.[0-9]{0,9})?$/.test(v)) throw invalid(`${where}: malformed PAX mtime "${v}"`);
  return Number(v);
}

/**
 * The uncompressed tar bytes of a layer stream: gzip is detected by its magic bytes (1f 8b) and
 * decompressed; anything else is passed through as a plain tar. Decompression errors become INVALID_ARCHIVE.
 */
export async function* tarBytes(input: AsyncIterable<Buffer> | Readable): AsyncGenerator<Buffer> {
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 2) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    head.push(c);
    headLen += c.length;
  }
  const first = Buffer.concat(head);
  if (first[0] !== 0x1f || first[1] !== 0x8b) {
    try {
      if (first.length > 0) yield first;
      while (!ended) {
        const r = await it.next();
        if (r.done) ended = true;
        else yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      }
    } finally {
      if (!ended) await it.return?.();
    }
    return;
  }
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  let stopped = false;
  let sourceError: unknown;
  const feed = (async () => {
    try {
      if (!gunzip.write(first)) await waitDrain(gunzip);
      while (!ended && !stopped) {
        const r = await it.next();
        if (r.done || stopped) break;
        if (!gunzip.write(r.value)) await waitDrain(gunzip);
      }
      if (!stopped) gunzip.end();
    } catch (e) {
      sourceError = e;
      gunzip.destroy(e as Error);
    }
  })();
  let finished = false;
  try {
    for await (const c of gunzip) yield c as Buffer;
    finished = true;
  } catch (e) {
    if (sourceError !== undefined) throw sourceError;
    throw new CairnError('INVALID_ARCHIVE', `layer is not valid gzip: ${messageOf(e)}`, {
      cause: e,
      hint: 'the layer is corrupt or truncated; fetch it again',
    });
  } finally {
    stopped = true;
    gunzip.destroy();
    if (finished) await feed;
    else {
      feed.catch(() => undefined);
      await it.return?.();
    }
  }
}

function waitDrain(s: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => { s.off('drain', done); s.off('close', done); s.off('error', onErr); resolve(); };
    const onErr = (e: Error) => { s.off('drain', done); s.off('close', done); reject(e); };
    s.once('drain', done);
    s.once('close', done);
    s.once('error', onErr);
  });
}
