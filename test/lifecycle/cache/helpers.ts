/**
 * Helpers for the cache tests: layer tars on disk (made with tar-stream, independent of cairn's writer),
 * a full validation of a cache (metadata without warnings, every listed layer present and matching), and
 * dropping privileges around a call so that permission errors can be tested as root.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../../../src/oci/digest.js';
import type { Cache, CacheMetadata } from '../../../src/lifecycle/cache/cache.js';
import { referencedDiffIDs } from '../../../src/lifecycle/cache/metadata.js';
import { makeLayer, type TestFile } from '../../helpers/make-image.js';

export interface TarFile {
  path: string;
  diffID: Digest;
  bytes: Buffer;
}

/** Writes an uncompressed layer tar of `files` to `<dir>/<name>.tar`. */
export async function writeTar(dir: string, name: string, files: TestFile[]): Promise<TarFile> {
  const layer = await makeLayer(files, { gzip: false });
  const path = join(dir, `${name}.tar`);
  await writeFile(path, layer.blob);
  return { path, diffID: layer.diffID, bytes: layer.blob };
}

export async function readStream(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Collects warnings. */
export function warnings(): { warn: (m: string) => void; list: string[] } {
  const list: string[] = [];
  return { warn: (m) => list.push(m), list };
}

export function metadataOf(key: string, version: string, layers: Record<string, Digest>, data: Record<string, unknown> = {}): CacheMetadata {
  return {
    buildpacks: [{ key, version, layers: Object.fromEntries(Object.entries(layers).map(([n, sha]) => [n, { sha, data, build: true, launch: false, cache: true }])) }],
  };
}

/**
 * Reads the whole cache through `cache`: the metadata, and every layer it lists, read to the end. Returns
 * the metadata and the layers' bytes; throws when anything is missing or fails its check.
 */
export async function validateCache(cache: Cache, warnList: string[]): Promise<{ metadata: CacheMetadata; layers: Map<Digest, Buffer> }> {
  const before = warnList.length;
  const metadata = await cache.metadata();
  const layers = new Map<Digest, Buffer>();
  for (const d of referencedDiffIDs(metadata)) {
    const s = await cache.openLayer(d);
    if (!s) throw new Error(`layer ${d} is listed but missing: ${warnList.slice(before).join('; ')}`);
    layers.set(d, await readStream(s));
  }
  if (warnList.length > before) throw new Error(`warnings while validating: ${warnList.slice(before).join('; ')}`);
  return { metadata, layers };
}

/** Runs `fn` with the effective uid of `nobody` when running as root (so that chmod 000 denies reads). */
export async function unprivileged<T>(fn: () => Promise<T>): Promise<T> {
  if (process.getuid?.() !== 0) return fn();
  process.seteuid!(65534);
  try {
    return await fn();
  } finally {
    process.seteuid!(0);
  }
}
