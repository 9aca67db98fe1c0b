/**
 * The image cache (`-cache-image`, digest §5.5): an image with no base in any Store (registry repository,
 * OCI layout, memory). Its layers are the cached layer tars, gzipped (diffID = the tar's sha256); its label
 * `io.buildpacks.lifecycle.cache.metadata` holds the metadata JSON. It always has at least one layer (an
 * empty one when nothing is cached), as the reference lifecycle writes it.
 *
 * Writing: added tars are gzipped to temporary files; reused layers keep the previous cache image's Layer
 * values, whose blobs are already in the store, so `writeImage` neither re-uploads nor re-writes them.
 * Nothing reaches the store before commit, which writes the blobs and then the manifest under the tag (the
 * store's own atomicity applies). Concurrent writers each write a complete image; the last tag wins.
 *
 * Reading: the image is loaded once, when the cache is opened. A missing image is an empty cache; one that
 * cannot be loaded (malformed, unreachable, unauthorized) is an empty cache with a warning. Reused layers are
 * not downloaded to be checked (that would defeat reuse on a registry); a layer whose read through this cache
 * failed its diffID check is not reused.
 */
import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { writeImage } from '../../oci/copy.js';
import { type Digest, parseDigest } from '../../oci/digest.js';
import { CairnError, isCairnError, messageOf } from '../../oci/errors.js';
import { type Image, loadImage, makeImage } from '../../oci/image.js';
import { bufferLayer, fileLayer, type Layer, layerDescriptor, openUncompressed, storeLayer } from '../../oci/layer.js';
import { MediaType } from '../../oci/media-types.js';
import type { ImageConfig, Platform } from '../../oci/spec.js';
import type { Store } from '../../oci/store/store.js';
import { type Cache, CACHE_METADATA_NAME, type CacheMetadata, type CacheWriter, emptyCacheMetadata, type Warn } from './cache.js';
import { emptyGzippedTar, gzipTarFile } from './gzip-tar.js';
import { LayerHealth } from './layer-health.js';
import { parseCacheMetadata, referencedDiffIDs, serializeCacheMetadata } from './metadata.js';

export interface ImageCacheOptions {
  warn: Warn;
  /** Platform written into the cache image's config, and chosen when the tag names an index. */
  platform: Pick<Platform, 'os' | 'architecture' | 'variant'>;
  /** Folder for the gzipped layers being written (default: the folder of each added tar). */
  tmpDir?: string;
  /** Start empty without reading the existing image (pack's --clear-cache); commit still replaces it. */
  fresh?: boolean;
  /** Blob transfers in flight on commit (default 4). */
  parallel?: number;
  signal?: AbortSignal;
}

/** Opens the cache image `tag` of `store` (absent → empty cache). Never throws for a bad or missing image. */
export async function openImageCache(store: Store, tag: string, opts: ImageCacheOptions): Promise<Cache> {
  const cache = new ImageCache(store, tag, opts);
  if (opts.fresh) return cache;
  try {
    cache.setImage(await loadImage(store, tag, { platform: opts.platform, ...(opts.signal ? { signal: opts.signal } : {}) }));
  } catch (e) {
    if (!isCairnError(e, 'MANIFEST_NOT_FOUND')) opts.warn(`${cache.name} cannot be read, the build runs without cache: ${messageOf(e)}`);
  }
  return cache;
}

class ImageCache implements Cache {
  readonly name: string;
  readonly health = new LayerHealth();
  image: Image | undefined;
  private md: CacheMetadata | undefined;

  constructor(readonly store: Store, readonly tag: string, readonly opts: ImageCacheOptions) {
    this.name = `cache image ${store.name}:${tag}`;
  }

  setImage(image: Image | undefined, md?: CacheMetadata): void {
    this.image = image;
    this.md = md;
  }

  async metadata(): Promise<CacheMetadata> {
    if (!this.image) return emptyCacheMetadata();
    if (this.md === undefined) {
      const label = this.image.config.config?.Labels?.[CACHE_METADATA_NAME];
      if (typeof label !== 'string') {
        this.opts.warn(`${this.name} has no ${CACHE_METADATA_NAME} label; the build runs without cache`);
        this.md = emptyCacheMetadata();
      } else {
        this.md = parseCacheMetadata(label, this.name, this.opts.warn);
      }
    }
    return structuredClone(this.md);
  }

  async openLayer(diffID: Digest): Promise<Readable | undefined> {
    const layer = this.layerOf(diffID);
    if (!layer) {
      this.opts.warn(`${this.name} has no layer ${diffID}; it is not restored`);
      return undefined;
    }
    try {
      const tar = await openUncompressed(layer);
      return this.health.track(diffID, tar, `layer ${diffID} in ${this.name}`);
    } catch (e) {
      this.opts.warn(`${this.name}: cannot read layer ${diffID}, it is not restored: ${messageOf(e)}`);
      return undefined;
    }
  }

  async begin(): Promise<CacheWriter> {
    return new ImageCacheWriter(this);
  }

  layerOf(diffID: Digest): Layer | undefined {
    return this.image?.layers.find((l) => l.diffID === diffID);
  }
}

class ImageCacheWriter implements CacheWriter {
  private readonly layers = new Map<Digest, Layer>();
  private readonly temps: string[] = [];
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(private readonly cache: ImageCache) {}

  async addLayer(diffID: Digest, tarPath: string): Promise<void> {
    this.checkOpen();
    parseDigest(diffID);
    if (this.layers.has(diffID)) return;
    let gz;
    try {
      gz = await gzipTarFile(tarPath, diffID, this.cache.opts.tmpDir ?? dirname(tarPath));
    } catch (e) {
      if (e instanceof CairnError) throw e;
      throw new CairnError('IO', `cannot add layer ${diffID} (${tarPath}) to ${this.cache.name}: ${messageOf(e)}`, { cause: e, hint: 'check that the tar exists and its folder is writable' });
    }
    this.temps.push(gz.path);
    this.layers.set(diffID, fileLayer(gz.path, { digest: gz.digest, diffID, size: gz.size, mediaType: MediaType.OciLayerGzip }));
  }

  async reuseLayer(diffID: Digest): Promise<boolean> {
    this.checkOpen();
    parseDigest(diffID);
    if (this.layers.has(diffID)) return true;
    const layer = this.cache.layerOf(diffID);
    if (!layer || this.cache.health.isBad(diffID)) return false;
    this.layers.set(diffID, layer);
    return true;
  }

  async commit(metadata: CacheMetadata): Promise<void> {
    this.checkOpen();
    const missing = referencedDiffIDs(metadata).filter((d) => !this.layers.has(d));
    if (missing.length > 0) {
      throw new CairnError('INVALID_ARGUMENT', `cannot commit ${this.cache.name}: its metadata refers to layers neither added nor kept: ${missing.join(', ')}`, {
        hint: 'add or reuse every layer the metadata lists before committing',
      });
    }
    const layers = [...this.layers.values()];
    if (layers.length === 0) {
      const empty = emptyGzippedTar();
      layers.push(bufferLayer(empty.blob, { digest: empty.digest, diffID: empty.diffID, mediaType: MediaType.OciLayerGzip }));
    }
    const label = serializeCacheMetadata(metadata);
    const { platform, parallel, signal } = this.cache.opts;
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Labels: { [CACHE_METADATA_NAME]: label } },
      rootfs: { type: 'layers', diff_ids: [] },
    };
    const image = makeImage(config, layers);
    const { store, tag } = this.cache;
    await writeImage(image, store, tag, { ...(parallel ? { parallel } : {}), ...(signal ? { signal } : {}) });
    this.state = 'committed';
    // The same image, its layers now read from the store (the temporary files go).
    const stored = makeImage(config, layers.map((l) => storeLayer(store, layerDescriptor(l), l.diffID)));
    this.cache.setImage(stored, parseCacheMetadata(label, this.cache.name, this.cache.opts.warn));
    await this.removeTemps();
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.removeTemps();
  }

  private async removeTemps(): Promise<void> {
    await Promise.all(this.temps.splice(0).map((p) => unlink(p).catch(() => undefined)));
  }

  private checkOpen(): void {
    if (this.state !== 'open') {
      throw new CairnError('INVALID_ARGUMENT', `this writer of ${this.cache.name} was already ${this.state}`, { hint: 'call begin() for a new cache generation' });
    }
  }
}
