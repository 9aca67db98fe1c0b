/**
 * Read-only layer values (go-containerregistry's `v1.Layer`). A Layer knows its compressed digest, its
 * diffID (digest of the uncompressed tar), its size and media type, and how to open its bytes. Bytes are
 * read only when a sink needs them.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import { CairnError } from './errors.js';
import { isGzipLayer, isPlainTarLayer, MediaType } from './media-types.js';
import { BLOB_READ_CHUNK } from './read-chunk.js';
import type { Descriptor } from './spec.js';
import type { Store } from './store/store.js';

export interface Layer {
  /** Digest of the blob as stored (compressed). */
  readonly digest: Digest;
  /** Digest of the uncompressed tar (image config `rootfs.diff_ids`). */
  readonly diffID: Digest;
  /** Size in bytes of the blob as stored. */
  readonly size: number;
  readonly mediaType: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** The store the blob lives in, when it lives in one (lets copy skip, mount or stream it). */
  readonly origin?: Store;
  /** Opens the blob bytes as stored. */
  compressed(): Promise<Readable>;
}

/** The descriptor of a layer in a manifest. */
export function layerDescriptor(layer: Layer): Descriptor {
  const d: Descriptor = { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
  if (layer.annotations && Object.keys(layer.annotations).length > 0) d.annotations = { ...layer.annotations };
  return d;
}

/** Opens a layer's uncompressed tar stream. */
export async function openUncompressed(layer: Layer): Promise<Readable> {
  const zlib = isGzipLayer(layer.mediaType) ? await import('node:zlib') : undefined; // loaded on use: a push never needs it
  const raw = await layer.compressed();
  if (zlib) {
    const gunzip = zlib.createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    return raw.pipe(gunzip);
  }
  if (isPlainTarLayer(layer.mediaType)) return raw;
  throw new CairnError('UNSUPPORTED_MEDIA_TYPE', `layer ${layer.digest} has unsupported media type ${layer.mediaType}`, {
    hint: 'cairn reads uncompressed and gzip layers; zstd layers are not supported yet',
  });
}

/** A layer whose blob lives in a store. */
export function storeLayer(store: Store, desc: Descriptor, diffID: Digest): Layer {
  return {
    digest: desc.digest,
    diffID,
    size: desc.size,
    mediaType: desc.mediaType,
    ...(desc.annotations ? { annotations: desc.annotations } : {}),
    origin: store,
    compressed: () => store.openBlob({ digest: desc.digest, size: desc.size }),
  };
}

/** A layer whose blob is a file on disk (e.g. written by the layer writer). */
export function fileLayer(path: string, info: { digest: Digest; diffID: Digest; size: number; mediaType?: string }): Layer {
  return {
    digest: info.digest,
    diffID: info.diffID,
    size: info.size,
    mediaType: info.mediaType ?? MediaType.OciLayerGzip,
    compressed: async () => createReadStream(path, { highWaterMark: BLOB_READ_CHUNK }),
  };
}

/** A layer held in memory (small layers: config layers, tests). */
export function bufferLayer(blob: Buffer, info: { digest: Digest; diffID: Digest; mediaType?: string }): Layer {
  return {
    digest: info.digest,
    diffID: info.diffID,
    size: blob.length,
    mediaType: info.mediaType ?? MediaType.OciLayerGzip,
    compressed: async () => Readable.from([blob]),
  };
}
