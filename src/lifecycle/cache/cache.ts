/**
 * The lifecycle's build cache (digest §5.5): cached layer tars by diffID plus one metadata document saying
 * which buildpack layer each one is. Two kinds share this interface: the volume cache (`volume-cache.ts`,
 * a folder) and the image cache (`image-cache.ts`, an image in any Store).
 *
 * A cache only ever speeds a build up: whatever is wrong with it (garbage metadata, missing or corrupt
 * layers, unreadable files) is reported through `Warn` and read as a miss, never as a failed build.
 * Writing is different: an error while writing throws, and the caller decides whether that fails the build.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';

/** One cached layer of a buildpack (the `<layer>.toml` types and `[metadata]` table, plus the tar's diffID). */
export interface CachedLayerMetadata {
  /** diffID of the layer tar. */
  sha: Digest;
  data: Record<string, unknown>;
  build: boolean;
  launch: boolean;
  cache: boolean;
}

/** The cache metadata document (JSON; the same for both cache kinds). */
export interface CacheMetadata {
  buildpacks: { key: string; version: string; layers: Record<string, CachedLayerMetadata> }[];
  /** The `<layers>/sbom/cache` layer. */
  sbom?: { sha: Digest };
}

export interface Cache {
  /** For messages: "cache dir /x", "cache image reg/app-cache". */
  readonly name: string;
  /**
   * Metadata of the committed cache; empty when there is none. A corrupt or unreadable metadata document is
   * dropped with a warning (never an error): the build then runs without cache. Invalid entries (bad
   * diffID, unsafe layer name) are dropped one by one, with a warning each.
   */
  metadata(): Promise<CacheMetadata>;
  /**
   * The uncompressed tar of a cached layer, verified against its diffID while read (the stream errors with
   * DIGEST_MISMATCH at the end if it does not match); undefined (with a warning) when it is missing or
   * cannot be opened.
   */
  openLayer(diffID: Digest): Promise<Readable | undefined>;
  /** Starts writing the next cache generation. Nothing is visible until commit(). */
  begin(): Promise<CacheWriter>;
  /**
   * Caches that keep layer folders (the volume cache, volume-trees.ts): moves the kept folder of a cached
   * layer to `dest` (absent) and gives its stat fingerprint; undefined (dest untouched) when none is kept.
   */
  takeTree?(diffID: Digest, dest: string): Promise<TreeRecord | undefined>;
  /**
   * Keeps `dir`, the folder of a layer this cache committed with `diffID` (its tar written as `record.writer`
   * says, the folder as `record.fingerprint`), for the next takeTree (it is moved,
   * or left where it is when it cannot be; setuid/setgid bits are cleared first, unless `opts.setid` says the
   * fingerprint walk found none). Never throws: a tree not kept is only a slower next restore.
   */
  keepTree?(diffID: Digest, dir: string, record: TreeRecord, opts?: { setid: boolean }): Promise<void>;
}

/** A kept layer folder's stat fingerprint (tree-fingerprint.ts) and how its tar was written (entry paths, owner). */
export interface TreeRecord {
  fingerprint: string;
  writer: string;
}

export interface CacheWriter {
  /** Adds a layer whose uncompressed tar is the file at `tarPath` (written by the exporter) with this diffID. */
  addLayer(diffID: Digest, tarPath: string): Promise<void>;
  /**
   * Keeps a layer of the committed cache unchanged (no copy when the store allows). False if it is not
   * there, or if it is known to be corrupt (a read through this cache failed its diffID check): the caller
   * then adds it afresh, so a damaged layer does not stay in the cache forever.
   */
  reuseLayer(diffID: Digest): Promise<boolean>;
  /** Atomically replaces the committed cache with the layers added/reused + this metadata. */
  commit(metadata: CacheMetadata): Promise<void>;
  /** Drops everything written since begin(). */
  abort(): Promise<void>;
}

export type Warn = (message: string) => void;

/** Name of the metadata file of a volume cache and of the label of a cache image (reference lifecycle). */
export const CACHE_METADATA_NAME = 'io.buildpacks.lifecycle.cache.metadata';

export function emptyCacheMetadata(): CacheMetadata {
  return { buildpacks: [] };
}
