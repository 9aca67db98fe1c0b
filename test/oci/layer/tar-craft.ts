/**
 * Raw tar crafting for tests, independent of src/oci/layer/tar-header.ts so tests do not check the
 * encoder with itself: any name, type flag, size claim, body, PAX or GNU long-name record can be written,
 * including archives no sane writer produces.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface RawEntry {
  name: string | Buffer;
  /** Type flag character ('0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, 'x', 'L', …). */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  body?: Buffer | string;
  /** Size written in the header; defaults to the body length. */
  size?: number;
  devmajor?: number;
  devminor?: number;
  /** Corrupt the checksum. */
  badChecksum?: boolean;
}

export function rawHeader(e: RawEntry): Buffer {
  const b = Buffer.alloc(512);
  const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, 'utf8');
  name.copy(b, 0, 0, Math.min(100, name.length));
  const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
  const oct = (off: number, width: number, n: number) => b.write(n.toString(8).padStart(width - 1, '0') + '\0', off, 'latin1');
  oct(100, 8, e.mode ?? 0o644);
  oct(108, 8, e.uid ?? 0);
  oct(116, 8, e.gid ?? 0);
  oct(124, 12, e.size ?? body.length);
  oct(136, 12, e.mtime ?? 1000000000);
  b.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname !== undefined) Buffer.from(e.linkname, 'utf8').copy(b, 157, 0, 100);
  b.write('ustar\x0000', 257, 'latin1');
  oct(329, 8, e.devmajor ?? 0);
  oct(337, 8, e.devminor ?? 0);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  if (e.badChecksum) sum += 1;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

/** Header, body and padding of each entry, then (unless `end: false`) two zero blocks. */
export function tarOf(entries: RawEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    parts.push(rawHeader(e), body, pad(body.length));
  }
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function gz(tar: Buffer): Buffer {
  return gzipSync(tar);
}

/** A PAX extended header entry ('x') carrying the given records. */
export function pax(records: Record<string, string>): RawEntry {
  const body = Buffer.concat(
    Object.entries(records).map(([k, v]) => {
      const rest = Buffer.byteLength(` ${k}=${v}\n`);
      let len = rest + String(rest).length;
      if (String(len).length !== String(rest).length) len = rest + String(len).length;
      return Buffer.from(`${len} ${k}=${v}\n`, 'utf8');
    }),
  );
  return { name: 'PaxHeaders.0/x', type: 'x', body };
}

/** A GNU long name ('L') or long link ('K') entry. */
export function gnuLong(kind: 'L' | 'K', value: string): RawEntry {
  return { name: '././@LongLink', type: kind, body: Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]) };
}

export function sha256hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
