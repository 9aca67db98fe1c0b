/**
 * Streaming extraction of a (gzipped) tar into destinations chosen per entry, for the archives buildpacks
 * download (npm package tarballs, nodejs.org-style dist tarballs).
 *
 * Reads ustar with pax (`path`, `linkpath`, `size`) and GNU long-name (`L`, `K`) headers; writes regular
 * files (mode kept, rwx bits only), folders, and symlinks whose target stays inside the destination root;
 * hard links become copies of their target. Refuses absolute paths, `..` components, and entries under a
 * symlink the archive itself created. Other entry types (devices, fifos) are skipped.
 *
 * Files are written with synchronous calls on purpose: an archive of thousands of small files (npm's own
 * tarball has ~1,900) spends most of its time in per-file thread-pool round trips otherwise (measured: ~0.9 s
 * against ~0.1 s for npm 8.19.4). The stream itself (download, gunzip) still flows asynchronously.
 */
import { closeSync, copyFileSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { dirname, posix, relative, resolve, sep } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BuildpackError } from './errors.js';

/** Where one archive entry goes: `root` (the destination it must stay in) and the path relative to it. */
export interface Placement {
  root: string;
  path: string;
}

/** Maps an archive path (normalised, no leading `./`) to its placement, or undefined to skip it. */
export type EntryMap = (archivePath: string) => Placement | undefined;

class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
    return this.buf.length >= n;
  }

  /** Exactly n bytes, or undefined at the end of the stream. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Passes n bytes to `sink` (undefined: drops them) chunk by chunk. */
  async pass(n: number, sink?: (chunk: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!this.buf.length && !(await this.fill(1))) throw new Error('truncated archive');
      const take = this.buf.subarray(0, Math.min(left, this.buf.length));
      this.buf = this.buf.subarray(take.length);
      left -= take.length;
      sink?.(take);
    }
  }

  /** Reads and drops the rest of the stream (so a digest over it is complete). */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (!(await this.it.next()).done);
  }
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

function octal(b: Buffer): number {
  if (b[0]! & 0x80) {
    // base-256 (GNU) for sizes ≥ 8 GiB
    let n = 0;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!;
    return n;
  }
  const s = cString(b).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = Buffer.from(text, 'utf8');
  while (rest.length) {
    const sp = rest.indexOf(0x20);
    const len = parseInt(rest.subarray(0, sp).toString('utf8'), 10);
    if (!(len > 0)) break;
    const rec = rest.subarray(sp + 1, len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    rest = rest.subarray(len);
  }
  return out;
}

function normalise(name: string): string | undefined {
  const n = posix.normalize(name.replace(/^(\.\/)+/, '')).replace(/\/+$/, '');
  if (n === '.' || n === '') return undefined;
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new Error(`unsafe path ${JSON.stringify(name)}`);
  return n;
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep));
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
}

/**
 * Extracts `source` (gzip when `gzip` is true) with `map`. Reads the whole stream even after the last
 * entry, so a digest computed over `source` covers every byte.
 */
export async function extractTar(source: AsyncIterable<Buffer>, map: EntryMap, opts: { gzip: boolean }): Promise<number> {
  let stream: AsyncIterable<Buffer> = source;
  if (opts.gzip) {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    pipeline(Readable.from(source), gunzip, (err) => {
      if (err) gunzip.destroy(err);
    });
    stream = gunzip;
  }
  const r = new ByteReader(stream);
  const links = new Set<string>();
  const written = new Map<string, string>(); // archive path → host path, for hard links
  let count = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  const made = new Set<string>();
  const folder = (d: string) => {
    if (made.has(d)) return;
    mkdirSync(d, { recursive: true });
    made.add(d);
  };
  const placed = (p: Placement): string => {
    const host = resolve(p.root, p.path);
    if (!inside(p.root, host)) throw new Error(`unsafe path ${JSON.stringify(p.path)}`);
    for (let d = dirname(host); inside(p.root, d) && d !== p.root; d = dirname(d)) {
      if (links.has(d)) throw new Error(`entry ${JSON.stringify(p.path)} lies under a symlink of the archive`);
    }
    return host;
  };
  try {
    for (;;) {
      const h = await r.read(512);
      if (!h || h.every((b) => b === 0)) break;
      const size = pax.size !== undefined ? Number(pax.size) : octal(h.subarray(124, 136));
      const type = String.fromCharCode(h[156]!) || '0';
      const padded = Math.ceil(size / 512) * 512;
      if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
        const body = (await r.read(padded)) ?? Buffer.alloc(0);
        const text = body.subarray(0, size).toString('utf8');
        if (type === 'x') pax = parsePax(text);
        else if (type === 'L') longName = text.replace(/\0+$/, '');
        else if (type === 'K') longLink = text.replace(/\0+$/, '');
        continue;
      }
      const prefix = h.subarray(257, 263).toString('latin1').startsWith('ustar') ? cString(h.subarray(345, 500)) : '';
      const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${cString(h.subarray(0, 100))}` : cString(h.subarray(0, 100)));
      const linkName = pax.linkpath ?? longLink ?? cString(h.subarray(157, 257));
      const mode = octal(h.subarray(100, 108)) & 0o777;
      pax = {};
      longName = longLink = undefined;
      const name = normalise(rawName);
      const dest = name === undefined ? undefined : map(name);
      if (!dest) {
        await r.pass(padded);
        continue;
      }
      const host = placed(dest);
      if (type === '0' || type === '\0' || type === '7') {
        folder(dirname(host));
        const fd = openSync(host, 'w', mode | 0o600);
        try {
          await r.pass(size, (c) => writeAll(fd, c));
        } finally {
          closeSync(fd);
        }
        await r.pass(padded - size);
        written.set(name!, host);
        count++;
      } else if (type === '5') {
        folder(host);
        await r.pass(padded);
      } else if (type === '2') {
        const target = resolve(dirname(host), linkName);
        if (linkName.startsWith('/') || !inside(dest.root, target)) throw new Error(`symlink ${JSON.stringify(name)} points outside (${linkName})`);
        folder(dirname(host));
        symlinkSync(linkName, host);
        links.add(host);
        await r.pass(padded);
        count++;
      } else if (type === '1') {
        const from = written.get(normalise(linkName) ?? '');
        if (from) {
          folder(dirname(host));
          copyFileSync(from, host);
          count++;
        }
        await r.pass(padded);
      } else {
        await r.pass(padded);
      }
    }
    await r.drain();
  } catch (e) {
    throw new BuildpackError(`cannot extract the archive: ${(e as Error).message}`, { cause: e, hint: 'the download is damaged or not the expected archive; try again, or check the mirror' });
  }
  return count;
}
