/**
 * Listing a layer's entries without extracting it (for inspect and diff). Accepts a tar or tar+gzip
 * stream; entries come as the archive states them (see TarEntry), whiteouts included.
 */
import type { Readable } from 'node:stream';
import { tarBytes, TarReader, type TarEntry, type TarReaderOptions } from './tar-reader.js';

export type { TarEntry, TarEntryType } from './tar-reader.js';

/** Yields each entry of a layer in archive order. Bodies are skipped, not buffered. */
export async function* layerEntries(input: Readable | AsyncIterable<Buffer>, options: TarReaderOptions = {}): AsyncGenerator<TarEntry> {
  const reader = new TarReader(tarBytes(input), options);
  let complete = false;
  try {
    for (let e = await reader.next(); e !== null; e = await reader.next()) yield e;
    complete = true;
  } finally {
    if (!complete) await reader.close();
  }
}

/** All entries of a layer, in archive order. */
export async function listLayer(input: Readable | AsyncIterable<Buffer>, options: TarReaderOptions = {}): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const e of layerEntries(input, options)) out.push(e);
  return out;
}
