/**
 * Copy, push and pull, written once over the Store interface.
 *
 * Order of writes (what makes an interrupted copy harmless): every blob first, then child manifests, then
 * the top manifest with its tag. A destination therefore never holds a manifest that points at a missing
 * blob. The blobs of one manifest (layers and config) are transferred concurrently, up to `parallel`.
 * Blobs already in the destination are skipped (putBlob checks; a blob read from the destination itself is
 * skipped without a request); blobs in another repository of the same registry are mounted instead of
 * uploaded.
 */
import { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import type { Image } from './image.js';
import { imageFromManifest, parseJson } from './image.js';
import { isConfigType, isIndexType, isManifestType } from './media-types.js';
import { mapLimit } from './limit.js';
import type { ProgressSink } from './progress.js';
import type { Descriptor, Index, Manifest } from './spec.js';
import type { BlobDescriptor, PutManifestOptions, Store } from './store/store.js';

export interface CopyOptions {
  /** Blob transfers in flight at once (default 4). */
  parallel?: number;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

export interface CopyResult {
  digest: Digest;
  /** Blobs uploaded or written, with their bytes. */
  blobsWritten: number;
  bytesWritten: number;
  blobsSkipped: number;
  blobsMounted: number;
}

/** Copies the manifest (or whole index) `ref` of `src` to `dst`, tagging it `tag` there. Digests are kept. */
export async function copyRef(src: Store, ref: string, dst: Store, tag: string | undefined, opts: CopyOptions = {}): Promise<CopyResult> {
  const result = newResult();
  dst.prepare?.(transferOpts(opts));
  const top = await src.getManifest(ref, transferOpts(opts));
  await copyManifestTree(src, dst, top.digest, top.mediaType, top.bytes, result, opts);
  result.digest = await dst.putManifest({ mediaType: top.mediaType, bytes: top.bytes }, tag, transferOpts(opts));
  opts.progress?.({ kind: 'manifest', digest: result.digest, ...(tag ? { tag } : {}) });
  return result;
}

export interface WriteImageOptions extends CopyOptions {
  /** The manifest `tag` names before the write, for a store to point the tag back at if the write fails half-way. */
  previous?: PutManifestOptions['previous'];
}

/** Writes an image value (e.g. one made by `mutate`) to `dst` under `tag`. */
export async function writeImage(image: Image, dst: Store, tag: string | undefined, opts: WriteImageOptions = {}): Promise<CopyResult> {
  const result = newResult();
  dst.prepare?.(transferOpts(opts));
  const cfg = image.manifest.config;
  await transferAll(opts, [
    ...image.layers.map((layer) => () =>
      transferBlob(dst, { digest: layer.digest, size: layer.size, mediaType: layer.mediaType }, () => layer.compressed(), layer.origin, result, opts)),
    () => transferBlob(dst, { digest: cfg.digest, size: cfg.size, mediaType: cfg.mediaType }, async () => Readable.from([image.rawConfig]), undefined, result, opts),
  ]);
  const put = { ...transferOpts(opts), ...(opts.previous ? { previous: opts.previous } : {}) };
  result.digest = await dst.putManifest({ mediaType: image.mediaType, bytes: image.rawManifest }, tag, put);
  opts.progress?.({ kind: 'manifest', digest: result.digest, ...(tag ? { tag } : {}) });
  return result;
}

/**
 * Copies the blobs of a manifest (or of every manifest of an index). An image manifest is checked first,
 * with its config (imageFromManifest), so that a malformed or hostile image never replaces a good one under
 * the destination tag; other artifacts are copied as they are.
 */
async function copyManifestTree(src: Store, dst: Store, digest: Digest, mediaType: string, bytes: Buffer, result: CopyResult, opts: CopyOptions): Promise<void> {
  if (isIndexType(mediaType)) {
    const index = parseJson<Index>(bytes, `index in ${src.name}`);
    for (const child of index.manifests ?? []) {
      if (!isManifestType(child.mediaType) && !isIndexType(child.mediaType)) {
        await copyBlob(src, dst, child, result, opts);
        continue;
      }
      const m = await src.getManifest(child.digest, transferOpts(opts));
      await copyManifestTree(src, dst, m.digest, m.mediaType, m.bytes, result, opts);
      await dst.putManifest({ mediaType: m.mediaType, bytes: m.bytes }, undefined, transferOpts(opts));
    }
    return;
  }
  const manifest = parseJson<Manifest>(bytes, `manifest in ${src.name}`);
  if (isManifestType(mediaType) && isConfigType(manifest.config?.mediaType)) {
    const image = await imageFromManifest(src, bytes, digest, mediaType, opts.signal ? { signal: opts.signal } : {});
    const cfg = manifest.config;
    await transferAll(opts, [
      ...manifest.layers.map((d) => () => copyBlob(src, dst, d, result, opts)),
      () => transferBlob(dst, { digest: cfg.digest, size: cfg.size, mediaType: cfg.mediaType }, async () => Readable.from([image.rawConfig]), undefined, result, opts),
    ]);
    return;
  }
  await transferAll(opts, [...(manifest.layers ?? []), manifest.config].map((d) => () => copyBlob(src, dst, d, result, opts)));
}

/** Runs blob transfers, `opts.parallel` (default 4) at once. */
async function transferAll(opts: CopyOptions, transfers: (() => Promise<void>)[]): Promise<void> {
  await mapLimit(transfers, opts.parallel ?? 4, (transfer) => transfer());
}

function copyBlob(src: Store, dst: Store, d: Descriptor, result: CopyResult, opts: CopyOptions): Promise<void> {
  return transferBlob(dst, { digest: d.digest, size: d.size, mediaType: d.mediaType }, () => src.openBlob({ digest: d.digest, size: d.size }, transferOpts(opts)), src, result, opts);
}

/** Skips, mounts or writes one blob. A mount is tried only for a blob not in `dst` yet (a HEAD first, then). */
async function transferBlob(dst: Store, desc: BlobDescriptor, open: () => Promise<Readable>, origin: Store | undefined, result: CopyResult, opts: CopyOptions): Promise<void> {
  // A blob read from the destination itself is there (a rebase writes back where it read the app image; a
  // copy within one store only tags): no request. Were it gone since, the manifest's write says so.
  if (origin === dst) {
    result.blobsSkipped++;
    opts.progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'skip' });
    return;
  }
  const from = origin?.location;
  // Within one registry a blob the destination lacks is mounted. Asked about first: a blob written again where
  // it is (mount or upload) makes docker-registry answer 500 to concurrent reads of it (seen in the fault test).
  if (from && dst.mountBlob && dst.location && from.host === dst.location.host && from.repository !== dst.location.repository) {
    if ((await dst.statBlob(desc.digest, transferOpts(opts))) !== undefined) {
      result.blobsSkipped++;
      opts.progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'skip' });
      return;
    }
    if (await dst.mountBlob(desc, from, transferOpts(opts))) { // (which reports the mount's progress)
      result.blobsMounted++;
      return;
    }
  }
  if (await dst.putBlob(desc, open, transferOpts(opts))) {
    result.blobsWritten++;
    result.bytesWritten += desc.size;
  } else {
    result.blobsSkipped++;
  }
}

function transferOpts(opts: CopyOptions): { signal?: AbortSignal; progress?: ProgressSink } {
  return { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.progress ? { progress: opts.progress } : {}) };
}

function newResult(): CopyResult {
  return { digest: '' as Digest, blobsWritten: 0, bytesWritten: 0, blobsSkipped: 0, blobsMounted: 0 };
}
