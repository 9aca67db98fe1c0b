/**
 * Random access into an uncompressed tar file: one scan of the headers builds a table of entry name →
 * data offset and size, after which any entry is read with a positioned read, without unpacking.
 * Understands ustar (with prefix), GNU long names (`L`, `K`) and PAX headers (`x`: path, linkpath, size).
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { CairnError } from '../../errors.js';
import { BLOB_READ_CHUNK } from '../../read-chunk.js';

export interface TarEntry {
  /** Normalised name: no leading `./` or `/`, no trailing `/`. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** Byte offset of the entry's data in the tar file. */
  offset: number;
  size: number;
  linkname: string | undefined;
}

const BLOCK = 512;
const MAX_META_BYTES = 1024 * 1024;

/** Scans the tar behind `fh` (of `fileSize` bytes). Later entries of the same name win, as with extraction. */
export async function indexTar(fh: FileHandle, fileSize: number, what: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (pos + BLOCK <= fileSize) {
    await readExactly(fh, header, pos, what);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) throw invalid(what, `bad tar header checksum at offset ${pos}`);
    const typeflag = String.fromCharCode(header[156]!);
    let size = parseNumber(header.subarray(124, 136), what, pos);
    if (pax.size !== undefined) size = Number(pax.size);
    const dataOffset = pos + BLOCK;
    if (dataOffset + size > fileSize) throw invalid(what, `entry at offset ${pos} runs past the end of the file`);
    pos = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
      if (size > MAX_META_BYTES) throw invalid(what, `oversized tar metadata entry at offset ${dataOffset - BLOCK}`);
      const data = Buffer.alloc(size);
      await readExactly(fh, data, dataOffset, what);
      if (typeflag === 'L') longName = cString(data);
      else if (typeflag === 'K') longLink = cString(data);
      else if (typeflag === 'x') pax = parsePax(data);
      continue;
    }
    const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
    const prefix = ustar ? cString(header.subarray(345, 500)) : '';
    const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
    const linkname = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257));
    const name = normalizeName(rawName);
    entries.set(name, { name, type: entryType(typeflag, rawName), offset: dataOffset, size, linkname: linkname || undefined });
    longName = undefined;
    longLink = undefined;
    pax = {};
  }
  return entries;
}

/**
 * The file entry `name` refers to, following symlinks (relative to the entry's folder) and hardlinks
 * (names from the archive root), as `docker save` uses for layers shared between images.
 */
export function resolveFile(entries: Map<string, TarEntry>, name: string, what: string): TarEntry {
  let current = normalizeName(name);
  for (let hops = 0; hops < 16; hops++) {
    const e = entries.get(current);
    if (!e) throw invalid(what, `it has no entry "${name}"`);
    if (e.type === 'file') return e;
    if (e.type === 'symlink' && e.linkname) current = normalizeName(posix.join(posix.dirname(e.name), e.linkname));
    else if (e.type === 'hardlink' && e.linkname) current = normalizeName(e.linkname);
    else throw invalid(what, `entry "${name}" is not a regular file`);
  }
  throw invalid(what, `too many links resolving "${name}"`);
}

/** Reads an entry's data (a new file descriptor per call, so streams may run in parallel). */
export function openEntry(path: string, entry: TarEntry): Readable {
  if (entry.size === 0) return Readable.from([]);
  return createReadStream(path, { start: entry.offset, end: entry.offset + entry.size - 1, highWaterMark: BLOB_READ_CHUNK });
}

function normalizeName(name: string): string {
  const n = posix.normalize(`/${name}`).slice(1);
  return n.endsWith('/') ? n.slice(0, -1) : n;
}

function entryType(flag: string, rawName: string): TarEntry['type'] {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return rawName.endsWith('/') ? 'directory' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'directory';
    default:
      return 'other';
  }
}

async function readExactly(fh: FileHandle, buf: Buffer, position: number, what: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw invalid(what, 'the tar file is truncated');
    done += bytesRead;
  }
}

function checksumOk(h: Buffer): boolean {
  const stored = parseInt(cString(h.subarray(148, 156)).trim() || 'x', 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return stored === sum;
}

/** Octal ASCII, or the base-256 form (high bit of the first byte set) for sizes of 8 GiB and more. */
function parseNumber(field: Buffer, what: string, pos: number): number {
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    if (!Number.isSafeInteger(n)) throw invalid(what, `entry size too large at offset ${pos}`);
    return n;
  }
  const s = cString(field).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw invalid(what, `bad size field at offset ${pos}`);
  return parseInt(s, 8);
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul === -1 ? b.length : nul).toString('utf8');
}

/** PAX extended header records: `<len> <key>=<value>\n`. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = parseInt(data.subarray(i, space).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

function invalid(what: string, why: string): CairnError {
  return new CairnError('INVALID_ARCHIVE', `${what} is not a valid tar archive: ${why}`, { hint: 'the file is damaged or is not the kind of archive named' });
}
