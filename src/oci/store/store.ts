/**
 * The one low-level store interface, implemented by the OCI layout, registry, memory, archive and daemon
 * stores. Copy, push and pull are written once on top of it (`../copy.ts`).
 *
 * A Store is one namespace of blobs plus manifests addressable by tag or digest: an OCI layout folder
 * (tags = `org.opencontainers.image.ref.name`), one repository of a registry, one archive file, one daemon.
 *
 * Contracts every implementation keeps (checked by test/oci/store-conformance.ts):
 * - Content is verified before it becomes visible: a blob or manifest whose bytes do not match the
 *   expected digest/size is rejected with DIGEST_MISMATCH / SIZE_MISMATCH and leaves nothing behind.
 * - putManifest is called only after every blob the manifest references is stored; stores that can check
 *   this (layout, memory) refuse a manifest with a missing blob (BLOB_NOT_FOUND).
 * - Writes are atomic: a crash at any point leaves the store valid (old state or new state).
 * - Missing things throw CairnError with code BLOB_NOT_FOUND / MANIFEST_NOT_FOUND, naming the store.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../digest.js';
import type { ProgressSink } from '../progress.js';
import { isCairnError } from '../errors.js';

export interface BlobDescriptor {
  digest: Digest;
  size: number;
  mediaType?: string;
}

export interface ManifestData {
  mediaType: string;
  digest: Digest;
  bytes: Buffer;
}

export interface TransferOptions {
  signal?: AbortSignal;
  progress?: ProgressSink;
}

export interface PutManifestOptions extends TransferOptions {
  /**
   * The manifest the tag names before this write. A store whose tag write can fail half-way (a registry the
   * bytes reach changed) points the tag back at it then, so the tag holds either the image before or the new one.
   */
  previous?: { mediaType: string; bytes: Buffer };
}

/** Where a blob can be found in a registry, so another repository of the same registry can mount it. */
export interface RegistryLocation {
  /** Registry host as written in references, e.g. `127.0.0.1:5000`, `ghcr.io`, `index.docker.io`. */
  host: string;
  /** Repository path, e.g. `library/node`. */
  repository: string;
}

export interface Store {
  /** Human-readable name for messages, e.g. `oci:/tmp/x`, `127.0.0.1:5000/a/b`, `docker-archive:/x.tar`. */
  readonly name: string;

  /** Set on registry stores: lets copy mount blobs across repositories of the same registry. */
  readonly location?: RegistryLocation;

  /**
   * Starts, without waiting, what the store's first request needs (a registry's ping, which tells how to
   * authenticate), so that it overlaps the caller's local work. Its failures surface on that first request.
   */
  prepare?(opts?: TransferOptions): void;

  /** Size of the blob when present, undefined when absent. */
  statBlob(digest: Digest, opts?: TransferOptions): Promise<number | undefined>;

  /**
   * The blob's bytes. The stream is verified against `desc` (digest, and size when given) and errors with
   * DIGEST_MISMATCH / SIZE_MISMATCH at the end if the content is wrong. Absent → BLOB_NOT_FOUND.
   */
  openBlob(desc: { digest: Digest; size?: number }, opts?: TransferOptions): Promise<Readable>;

  /**
   * Stores a blob whose bytes `open()` yields (it may be called again on a retry). Verified against `desc`
   * before it becomes visible. A blob already present is not written again. Returns true when bytes were
   * written or uploaded, false when it was already there (or mounted).
   */
  putBlob(desc: BlobDescriptor, open: () => Promise<Readable>, opts?: TransferOptions): Promise<boolean>;

  /**
   * Registries only: mount a blob from another repository of the same registry without uploading it.
   * Resolves true when mounted, false when the registry declined (the caller then uploads).
   */
  mountBlob?(desc: BlobDescriptor, from: RegistryLocation, opts?: TransferOptions): Promise<boolean>;

  /** A manifest or index by tag or by digest (`sha256:…`). Absent → MANIFEST_NOT_FOUND. */
  getManifest(ref: string, opts?: TransferOptions): Promise<ManifestData>;

  /**
   * Stores a manifest or index, and points `tag` at it when given. Returns its digest.
   * The blobs it references must already be stored.
   */
  putManifest(manifest: { mediaType: string; bytes: Buffer }, tag?: string, opts?: PutManifestOptions): Promise<Digest>;

  /** Tags present, sorted. */
  listTags(opts?: TransferOptions): Promise<string[]>;

  /** Removes a tag (the content stays until garbage-collected, where the store has GC). */
  deleteTag(tag: string, opts?: TransferOptions): Promise<void>;

  /** Finishes pending work: archives write their file, daemon stores load into the engine. */
  close(): Promise<void>;

  /** Stores that stage writes (archives, daemons): drops what was staged without writing anything. */
  discard?(): Promise<void>;
}

/** True when `store` holds a manifest or index under `ref`; other failures (unreachable, unauthorized) throw. */
export async function hasManifest(store: Store, ref: string, opts?: TransferOptions): Promise<boolean> {
  try {
    await store.getManifest(ref, opts);
    return true;
  } catch (e) {
    if (isCairnError(e, 'MANIFEST_NOT_FOUND')) return false;
    throw e;
  }
}
