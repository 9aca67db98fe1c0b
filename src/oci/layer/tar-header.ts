/**
 * ustar header encoding and decoding, with PAX extended headers (POSIX.1-2001 "pax" format, IEEE Std
 * 1003.1 `pax` §"ustar Interchange Format" and §"pax Extended Header").
 *
 * The encoder writes exactly one byte sequence for a given set of fields, so layers are reproducible:
 * ustar magic "ustar\0" version "00", numeric fields as zero-padded octal ended by NUL, checksum as six
 * octal digits then NUL and space, empty uname/gname, zero device numbers. A PAX 'x' header (records
 * sorted by key, never atime/ctime) comes first when a name or link name exceeds 100 bytes, the size
 * exceeds 8 GiB - 1, or a uid/gid exceeds 0o7777777.
 *
 * The decoder accepts ustar, GNU ("ustar  \0") and v7 headers, octal and base-256 numbers, and both the
 * unsigned and the signed checksum; it throws INVALID_ARCHIVE on anything else.
 */
import { CairnError } from '../errors.js';

export const BLOCK = 512;

/** Type flags (ustar `typeflag`, plus the GNU and PAX ones cairn reads). */
export const TypeFlag = {
  File: 0x30, // '0'
  Hardlink: 0x31, // '1'
  Symlink: 0x32, // '2'
  CharDevice: 0x33, // '3'
  BlockDevice: 0x34, // '4'
  Dir: 0x35, // '5'
  Fifo: 0x36, // '6'
  Contiguous: 0x37, // '7'
  OldFile: 0x00, // v7 regular file
  PaxExtended: 0x78, // 'x'
  PaxGlobal: 0x67, // 'g'
  GnuLongName: 0x4c, // 'L'
  GnuLongLink: 0x4b, // 'K'
} as const;

/** The fields cairn writes. `mtime` is whole seconds since the epoch. */
export interface HeaderFields {
  name: string;
  typeflag: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
}

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/**
 * Encodes one entry's header: a PAX extended header (header block + records, padded) when some field does
 * not fit ustar, then the ustar block. The result's length is a multiple of 512.
 */
export function encodeHeader(h: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeUstar(block, 0, h);
  const pax: [string, string][] = [];
  if (Buffer.byteLength(h.linkname ?? '', 'utf8') > 100) pax.push(['linkpath', h.linkname!]);
  if (Buffer.byteLength(h.name, 'utf8') > 100) pax.push(['path', h.name]);
  if (h.size > MAX_OCTAL_11) pax.push(['size', String(h.size)]);
  if (h.uid > MAX_OCTAL_7) pax.push(['uid', String(h.uid)]);
  if (h.gid > MAX_OCTAL_7) pax.push(['gid', String(h.gid)]);
  if (pax.length === 0) return block;
  pax.sort((x, y) => (x[0] < y[0] ? -1 : 1));
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxHeader = Buffer.alloc(BLOCK);
  writeUstar(paxHeader, 0, { name: paxHeaderName(h.name), typeflag: TypeFlag.PaxExtended, mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: h.mtime });
  const padded = Buffer.alloc(records.length + paddingFor(records.length));
  records.copy(padded);
  return Buffer.concat([paxHeader, padded, block]);
}

/**
 * Writes the header straight into `target` at `offset` (512 bytes) when it is a single ustar block and
 * returns true; returns false, writing nothing, when the entry needs a PAX header (use encodeHeader).
 */
export function writeUstarHeader(h: HeaderFields, target: Buffer, offset: number): boolean {
  if (h.size > MAX_OCTAL_11 || h.uid > MAX_OCTAL_7 || h.gid > MAX_OCTAL_7) return false;
  if (h.name.length > 100 || (h.linkname !== undefined && h.linkname.length > 100)) return false;
  if (Buffer.byteLength(h.name, 'utf8') > 100 || Buffer.byteLength(h.linkname ?? '', 'utf8') > 100) return false;
  writeUstar(target, offset, h);
  return true;
}

/** Bytes of zero padding after `size` bytes of content. */
export function paddingFor(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** `dir/PaxHeaders.0/base`, as Go's archive/tar names PAX headers (no pid: deterministic). */
function paxHeaderName(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? `PaxHeaders.0/${trimmed}` : `${trimmed.slice(0, i)}/PaxHeaders.0/${trimmed.slice(i + 1)}`;
}

/**
 * The ustar block. Names and link names longer than 100 bytes are cut at a UTF-8 character boundary
 * (Buffer#write never writes a partial character); the PAX record then carries the full value.
 */
function writeUstar(b: Buffer, off: number, h: HeaderFields): void {
  b.fill(0, off, off + BLOCK);
  b.write(h.name, off, 100, 'utf8');
  octal(b, off + 100, 8, h.mode & 0o7777);
  octal(b, off + 108, 8, h.uid > MAX_OCTAL_7 ? 0 : h.uid);
  octal(b, off + 116, 8, h.gid > MAX_OCTAL_7 ? 0 : h.gid);
  if (h.size > MAX_OCTAL_11) base256(b, off + 124, 12, h.size);
  else octal(b, off + 124, 12, h.size);
  octal(b, off + 136, 12, h.mtime);
  b[off + 156] = h.typeflag;
  if (h.linkname) b.write(h.linkname, off + 157, 100, 'utf8');
  b.write('ustar\x0000', off + 257, 'latin1');
  octal(b, off + 329, 8, 0);
  octal(b, off + 337, 8, 0);
  let sum = 8 * 0x20; // the checksum field counts as eight spaces
  for (let i = off; i < off + 148; i++) sum += b[i]!;
  for (let i = off + 156; i < off + BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0'), off + 148, 'latin1');
  b[off + 154] = 0;
  b[off + 155] = 0x20;
}

/** Zero-padded octal in `width - 1` digits followed by NUL. */
function octal(b: Buffer, off: number, width: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new CairnError('INTERNAL', `tar header field out of range: ${n}`);
  b.write(n.toString(8).padStart(width - 1, '0'), off, 'latin1');
  b[off + width - 1] = 0;
}

/** GNU base-256: high bit of the first byte set, big-endian value in the rest. */
function base256(b: Buffer, off: number, width: number, n: number): void {
  b[off] = 0x80;
  let v = n;
  for (let i = off + width - 1; i > off; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
}

/** One PAX record `"<len> <key>=<value>\n"`, where len counts the whole record including itself. */
export function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.byteLength(` ${key}=${value}\n`, 'utf8');
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.from(`${len} ${key}=${value}\n`, 'utf8');
}

// ---------------------------------------------------------------------------------------------- decoding

/** A decoded header block, before PAX / GNU long-name overrides are applied. */
export interface RawHeader {
  name: Buffer;
  linkname: Buffer;
  typeflag: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  devmajor: number;
  devminor: number;
}

/**
 * Decodes a 512-byte header block. Returns null for an all-zero block (end of archive). `where` names
 * the position in error messages.
 */
export function decodeHeader(b: Buffer, where: string): RawHeader | null {
  let zero = true;
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) { zero = false; break; }
  if (zero) return null;
  const stored = parseNumber(b, 148, 8, where, 'checksum');
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += b[i]!;
    signed += (b[i]! << 24) >> 24;
  }
  if (stored !== unsigned && stored !== signed) {
    throw invalid(`${where}: bad header checksum`, 'the data is not a tar archive, or it is corrupt');
  }
  const magic = b.toString('latin1', 257, 263);
  let name = cString(b, 0, 100);
  if (magic === 'ustar\0' && b[345] !== 0) name = Buffer.concat([cString(b, 345, 155), Buffer.from('/'), name]);
  return {
    name,
    linkname: cString(b, 157, 100),
    typeflag: b[156]!,
    mode: parseNumber(b, 100, 8, where, 'mode'),
    uid: parseNumber(b, 108, 8, where, 'uid'),
    gid: parseNumber(b, 116, 8, where, 'gid'),
    size: parseNumber(b, 124, 12, where, 'size'),
    mtime: parseNumber(b, 136, 12, where, 'mtime'),
    devmajor: parseNumber(b, 329, 8, where, 'devmajor'),
    devminor: parseNumber(b, 337, 8, where, 'devminor'),
  };
}

function cString(b: Buffer, off: number, len: number): Buffer {
  const end = b.indexOf(0, off);
  return b.subarray(off, end < 0 || end > off + len ? off + len : end);
}

/** Octal (space/NUL padded) or GNU base-256. Negative or unsafe numbers are rejected. */
function parseNumber(b: Buffer, off: number, len: number, where: string, field: string): number {
  if (b[off]! & 0x80) {
    if (b[off] !== 0x80) throw invalid(`${where}: negative or oversized ${field} field`);
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    if (!Number.isSafeInteger(v)) throw invalid(`${where}: ${field} field too large`);
    return v;
  }
  const s = b.toString('latin1', off, off + len).replace(/[\0 ]+$/, '').replace(/^[ ]+/, '').replace(/^\0+$/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw invalid(`${where}: malformed ${field} field "${s.replace(/[^\x20-\x7e]/g, '?')}"`);
  const v = parseInt(s, 8);
  if (!Number.isSafeInteger(v)) throw invalid(`${where}: ${field} field too large`);
  return v;
}

/**
 * Parses PAX extended header records. Throws INVALID_ARCHIVE on a malformed record. Values are UTF-8;
 * later records override earlier ones.
 */
export function decodePax(data: Buffer, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // trailing NUL padding written by some tools
    const sp = data.indexOf(0x20, off);
    const lenStr = sp < 0 ? '' : data.toString('latin1', off, sp);
    if (!/^[1-9][0-9]{0,8}$/.test(lenStr)) throw invalid(`${where}: malformed PAX record length`);
    const len = Number(lenStr);
    const end = off + len;
    if (end > data.length || data[end - 1] !== 0x0a) throw invalid(`${where}: malformed PAX record`);
    const rec = data.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw invalid(`${where}: malformed PAX record`);
    out.set(rec.toString('utf8', 0, eq), rec.toString('utf8', eq + 1));
    off = end;
  }
  return out;
}

function invalid(message: string, hint = 'the archive is corrupt or not a tar archive'): CairnError {
  return new CairnError('INVALID_ARCHIVE', message, { hint });
}
