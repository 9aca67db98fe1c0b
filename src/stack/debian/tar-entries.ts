/**
 * Iterates the entries of a (decompressed) tar stream with tar-stream, handing each entry's header and
 * body to a callback one at a time. Used for the members of a .deb, which dpkg-deb writes as GNU tar.
 */
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { CairnError, isCairnError, messageOf } from '../../oci/errors.js';

export interface TarEntryHeader {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string | undefined;
}

/** Calls `onEntry` for each entry in order; the body must be consumed (or ignored: it is drained). */
export async function forEachTarEntry(
  source: Readable,
  what: string,
  onEntry: (header: TarEntryHeader, body: AsyncIterable<Uint8Array>) => Promise<void> | void,
): Promise<void> {
  const extract = tar.extract();
  source.on('error', (e) => extract.destroy(e));
  source.pipe(extract);
  try {
    for await (const raw of extract) {
      // tar-stream 3 yields streamx Readables; the bundled typings predate its async iteration.
      const entry = raw as unknown as AsyncIterable<Uint8Array> & { header: tar.Header; resume(): void };
      const h = entry.header;
      await onEntry(
        {
          name: h.name,
          type: h.type ?? 'file',
          mode: (h.mode ?? 0o644) & 0o7777,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          size: h.size ?? 0,
          mtime: h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0,
          linkname: h.linkname ?? undefined,
        },
        entry,
      );
      entry.resume();
    }
  } catch (e) {
    if (isCairnError(e)) throw e;
    throw new CairnError('INVALID_ARCHIVE', `cannot read ${what}: ${messageOf(e)}`, { cause: e });
  }
}

/** Reads a whole entry body into memory. */
export async function readBody(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}
