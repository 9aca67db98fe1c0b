/**
 * Decompression of the formats Debian uses for indexes and package members: gzip (node:zlib), xz
 * (xz-decompress, a WebAssembly build of xz-embedded) and none. zstd (used by Ubuntu's .debs, never by
 * Debian's) and bzip2/lzma are refused with UNSUPPORTED naming the member.
 */
import { gunzipSync } from 'node:zlib';
import xz from 'xz-decompress';
import { CairnError, messageOf } from '../../oci/errors.js';
import type { XzPool } from './xz-pool.js';

export type Compression = 'gzip' | 'xz' | 'none';

/** The compression named by a file name's extension (`data.tar.xz`, `Packages.gz`); throws UNSUPPORTED. */
export function compressionOf(name: string): Compression {
  if (name.endsWith('.gz')) return 'gzip';
  if (name.endsWith('.xz')) return 'xz';
  if (name.endsWith('.zst') || name.endsWith('.bz2') || name.endsWith('.lzma')) {
    throw new CairnError('UNSUPPORTED', `${name}: ${name.slice(name.lastIndexOf('.') + 1)} compression is not supported`, {
      hint: 'cairn reads gzip- and xz-compressed Debian packages and indexes (Debian itself uses xz)',
    });
  }
  return 'none';
}

/** Decompresses a whole buffer (xz on `pool` when given). `what` names it in INVALID_ARCHIVE errors. */
export async function decompressBuffer(data: Uint8Array, compression: Compression, what: string, pool?: XzPool): Promise<Buffer> {
  if (compression === 'xz' && pool) return pool.decode(data, what);
  try {
    if (compression === 'none') return Buffer.from(data);
    if (compression === 'gzip') return gunzipSync(data);
    const out = new xz.XzReadableStream(new Blob([data as Uint8Array<ArrayBuffer>]).stream() as unknown as ReadableStream<Uint8Array>);
    return Buffer.from(await new Response(out as unknown as ReadableStream<Uint8Array>).arrayBuffer());
  } catch (e) {
    throw new CairnError('INVALID_ARCHIVE', `cannot decompress ${what} (${compression}): ${messageOf(e)}`, { cause: e });
  }
}
