/**
 * A Store over an OCI image layout folder (image-spec image-layout.md): `oci-layout`, `index.json` and
 * `blobs/sha256/<hex>`. Tags are `org.opencontainers.image.ref.name` annotations of index.json entries, so
 * skopeo (`oci:DIR:TAG`), umoci (`DIR:TAG`) and podman read what cairn writes.
 *
 * Crash safety: a blob is streamed to a temp file in `blobs/sha256`, verified while written, fsync'd and
 * renamed into place; index.json is rewritten last (temp + fsync + rename) while holding the inter-process
 * lock `index.json.lock`, as one read-modify-write. A crash at any moment leaves a valid layout with at
 * most stray temp files, which readers ignore and `gc()` removes.
 *
 * A manifest stored without a tag gets an entry without a ref name (as skopeo writes `oci:DIR` without a
 * tag), so that it stays reachable; that entry goes once the manifest is tagged or an index stored later
 * lists it. A manifest whose last tag moves elsewhere or is deleted is left to `gc()`.
 */
import { mkdir, open, readdir, readFile, stat, utimes } from 'node:fs/promises';
import { type Readable, pipeline } from 'node:stream';
import { type Digest, parseDigest, sha256, VerifyingStream, verifyBytes } from '../../digest.js';
import { CairnError, messageOf } from '../../errors.js';
import type { ProgressSink } from '../../progress.js';
import { BLOB_READ_CHUNK } from '../../read-chunk.js';
import type { Index } from '../../spec.js';
import type { BlobDescriptor, ManifestData, Store, TransferOptions } from '../store.js';
import { isTempName, streamToFileAtomic, writeFileAtomic } from '../../atomic-file.js';
import { collectGarbage, type GcOptions, type GcResult } from './gc.js';
import { checkRefName, emptyIndex, isDigestRef, findDigest, findTag, parseLayoutIndex, serializeLayoutIndex, tagsOf, withManifest, withoutTag } from './index-json.js';
import { withFileLock } from './lock.js';
import { MAX_MANIFEST_BYTES, manifestRefs, sniffManifestType } from './manifest-refs.js';
import { INDEX_FILE, LAYOUT_VERSION, LOCK_FILE, OCI_LAYOUT_FILE, type LayoutPaths, layoutPaths } from './paths.js';
import { blobNotFound, manifestNotFound } from './store-errors.js';
import { type LayoutReport, validateLayout } from './validate-layout.js';

export interface LayoutStoreOptions {
  /** Create the layout (and its folder) when it does not exist yet. */
  create?: boolean;
  /** The clock, for lock records, lock timeouts and GC ages (library code reads no clock itself). */
  now?: () => Date;
  /** How long to wait for another process's index lock before STORE_LOCKED (default 60 s). */
  lockTimeoutMs?: number;
  /** Name in messages (default `oci:<dir>`); stores that stage content in a layout pass their own. */
  name?: string;
}

/**
 * Opens the layout in `dir`. Without `create`, a folder that is not a layout fails with NOT_FOUND; with it,
 * a missing or empty folder becomes an empty layout (a non-empty folder that is not a layout is refused).
 */
export async function openLayoutStore(dir: string, opts: LayoutStoreOptions = {}): Promise<LayoutStore> {
  const store = new LayoutStore(dir, opts);
  await store.init(opts.create ?? false);
  return store;
}

export class LayoutStore implements Store {
  readonly name: string;
  readonly paths: LayoutPaths;
  private readonly now: () => Date;
  private readonly lockTimeoutMs: number | undefined;
  /** Serialises this process's own index updates, so they queue here instead of polling the file lock. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string, opts: LayoutStoreOptions) {
    this.name = opts.name ?? `oci:${dir}`;
    this.paths = layoutPaths(dir);
    // The one default clock; the CLI passes its own.
    this.now = opts.now ?? (() => new Date());
    this.lockTimeoutMs = opts.lockTimeoutMs;
  }

  /** @internal Checks the folder is a layout, creating it when asked. */
  async init(create: boolean): Promise<void> {
    if (create && (await readOptional(this.paths.ociLayout)) === undefined) await this.create();
    const layout = await readOptional(this.paths.ociLayout);
    if (layout === undefined) {
      throw new CairnError('NOT_FOUND', `${this.name} is not an OCI image layout (no oci-layout file)`, {
        hint: 'check the path; cairn creates a layout only when writing to it',
      });
    }
    checkLayoutFile(layout, this.name);
    if ((await readOptional(this.paths.index)) === undefined) {
      throw new CairnError('STORE_CORRUPT', `${this.name} has an oci-layout file but no index.json`, { hint: 'the layout was damaged; restore index.json or recreate the layout' });
    }
  }

  /**
   * Makes a missing or empty folder a layout. Other processes may be creating the same layout at the same
   * moment (builds sharing one CAIRN_HOME), so what they write is expected here, `oci-layout` included: one
   * may finish between our check for it and our listing of the folder.
   */
  private async create(): Promise<void> {
    const expected = new Set([OCI_LAYOUT_FILE, 'blobs', INDEX_FILE, LOCK_FILE, `${LOCK_FILE}.break`]);
    const entries = (await readdir(this.dir).catch(() => [] as string[])).filter((e) => !expected.has(e) && !isTempName(e));
    if (entries.length > 0) {
      throw new CairnError('INVALID_ARGUMENT', `${this.dir} is not empty and not an OCI image layout`, {
        hint: 'write the layout to a new or empty folder',
      });
    }
    await mkdir(this.paths.blobs, { recursive: true });
    // index.json first, oci-layout last: a folder with an oci-layout file always has an index.json.
    await this.exclusive(async () => {
      if ((await readOptional(this.paths.index)) === undefined) await writeFileAtomic(this.paths.index, serializeLayoutIndex(emptyIndex()));
      if ((await readOptional(this.paths.ociLayout)) === undefined) {
        await writeFileAtomic(this.paths.ociLayout, JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));
      }
    });
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    const path = this.paths.blob(parseDigest(digest));
    try {
      return (await stat(path)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(`cannot read blob ${digest} in ${this.name}`, e);
    }
  }

  async openBlob(desc: { digest: Digest; size?: number }): Promise<Readable> {
    const path = this.paths.blob(parseDigest(desc.digest));
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw blobNotFound(desc.digest, this.name);
      throw ioError(`cannot read blob ${desc.digest} in ${this.name}`, e);
    }
    const verifier = new VerifyingStream(desc, `blob ${desc.digest} in ${this.name}`);
    return pipeline(fh.createReadStream({ highWaterMark: BLOB_READ_CHUNK }), verifier, () => undefined);
  }

  async putBlob(desc: BlobDescriptor, source: () => Promise<Readable>, opts: TransferOptions = {}): Promise<boolean> {
    const path = this.paths.blob(parseDigest(desc.digest));
    if (await this.touchIfPresent(path)) {
      opts.progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'skip' });
      return false;
    }
    opts.progress?.({ kind: 'blob-start', digest: desc.digest, total: desc.size, action: 'write' });
    await mkdir(this.paths.blobs, { recursive: true });
    const transforms: NodeJS.ReadWriteStream[] = [new VerifyingStream(desc, `blob ${desc.digest} for ${this.name}`)];
    await streamToFileAtomic(path, await source(), 0o644, transforms, opts.signal);
    opts.progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'write' });
    return true;
  }

  async getManifest(ref: string): Promise<ManifestData> {
    const index = await this.readIndex();
    if (isDigestRef(ref)) {
      const digest = parseDigest(ref);
      const bytes = await this.readManifestBlob(digest, undefined, ref);
      return { digest, bytes, mediaType: sniffManifestType(bytes, findDigest(index, digest)?.mediaType, `manifest ${digest} in ${this.name}`) };
    }
    const desc = findTag(index, ref);
    if (!desc) throw manifestNotFound(ref, this.name, tagsOf(index));
    const bytes = await this.readManifestBlob(desc.digest, desc.size, ref);
    return { digest: desc.digest, bytes, mediaType: desc.mediaType };
  }

  async putManifest(manifest: { mediaType: string; bytes: Buffer }, tag?: string, opts: TransferOptions = {}): Promise<Digest> {
    if (tag !== undefined) checkRefName(tag);
    const digest = sha256(manifest.bytes);
    const refs = manifestRefs(manifest.mediaType, manifest.bytes, `manifest ${digest}`);
    const checkRefs = async (): Promise<void> => {
      for (const d of refs.blobs) await this.requirePresent(d.digest, d.size, 'blob', digest);
      for (const d of refs.children) await this.requirePresent(d.digest, d.size, 'manifest', digest);
    };
    await checkRefs();
    const path = this.paths.blob(digest);
    if (!(await this.touchIfPresent(path))) {
      await mkdir(this.paths.blobs, { recursive: true });
      await writeFileAtomic(path, manifest.bytes);
    }
    await this.exclusive(async () => {
      // Checked again under the lock: a concurrent gc() cannot remove a blob between this check and the update.
      await checkRefs();
      const index = await this.readIndex();
      const next = withManifest(index, { mediaType: manifest.mediaType, digest, size: manifest.bytes.length }, tag, refs.children.map((c) => c.digest));
      if (next !== index) await this.writeIndex(next);
    });
    notify(opts.progress, digest, tag);
    return digest;
  }

  async listTags(): Promise<string[]> {
    return tagsOf(await this.readIndex());
  }

  async deleteTag(tag: string): Promise<void> {
    await this.exclusive(async () => {
      const index = await this.readIndex();
      const next = withoutTag(index, tag);
      if (!next) throw manifestNotFound(tag, this.name, tagsOf(index));
      await this.writeIndex(next);
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  /**
   * Removes blobs not reachable from index.json and stale temp files, sparing anything younger than the
   * grace period (default 1 h) so that a concurrent writer's blobs survive. Runs under the index lock.
   */
  gc(opts: GcOptions = {}): Promise<GcResult> {
    return this.exclusive(() => collectGarbage(this.paths, this.name, this.now(), opts));
  }

  /** Recomputes every blob digest and checks every reference; throws STORE_CORRUPT listing problems. */
  validate(): Promise<LayoutReport> {
    return validateLayout(this.dir);
  }

  /** Runs `fn` holding both the in-process queue and the inter-process lock. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => undefined).then(() =>
      withFileLock(this.paths.lock, { now: this.now, what: this.name, ...(this.lockTimeoutMs !== undefined ? { timeoutMs: this.lockTimeoutMs } : {}) }, fn));
    this.queue = run;
    return run;
  }

  private async readIndex(): Promise<Index> {
    const bytes = await readOptional(this.paths.index);
    if (bytes === undefined) throw new CairnError('STORE_CORRUPT', `${this.name} has no index.json`, { hint: 'the layout was damaged; restore index.json or recreate the layout' });
    return parseLayoutIndex(bytes, this.name);
  }

  private writeIndex(index: Index): Promise<void> {
    return writeFileAtomic(this.paths.index, serializeLayoutIndex(index));
  }

  private async readManifestBlob(digest: Digest, size: number | undefined, ref: string): Promise<Buffer> {
    const path = this.paths.blob(digest);
    let bytes: Buffer;
    try {
      const st = await stat(path);
      if (st.size > MAX_MANIFEST_BYTES) {
        throw new CairnError('INVALID_MANIFEST', `${digest} in ${this.name} is ${st.size} bytes, too large for a manifest`, { hint: 'the reference names a layer or other blob, not a manifest' });
      }
      bytes = await readFile(path);
    } catch (e) {
      if (e instanceof CairnError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        if (ref === digest) throw manifestNotFound(ref, this.name, undefined);
        throw new CairnError('STORE_CORRUPT', `${this.name}: tag ${ref} points at ${digest}, which is missing`, { hint: 'the layout was damaged; run cairn with a fresh copy of the image' });
      }
      throw ioError(`cannot read manifest ${digest} in ${this.name}`, e);
    }
    verifyBytes(bytes, { digest, ...(size !== undefined ? { size } : {}) }, `manifest ${digest} in ${this.name}`);
    return bytes;
  }

  private async requirePresent(digest: Digest, size: number, kind: 'blob' | 'manifest', parent: Digest): Promise<void> {
    const have = await this.statBlob(digest);
    if (have === size) return;
    const why = have === undefined ? 'is not stored' : `is stored with ${have} bytes, not ${size}`;
    throw new CairnError(kind === 'blob' ? 'BLOB_NOT_FOUND' : 'MANIFEST_NOT_FOUND', `cannot store manifest ${parent} in ${this.name}: its ${kind} ${digest} ${why}`, {
      hint: 'store every blob and child manifest before the manifest that refers to them',
    });
  }

  /** True when the file exists; refreshes its mtime so gc()'s grace period protects it for a new writer. */
  private async touchIfPresent(path: string): Promise<boolean> {
    try {
      const t = this.now();
      await utimes(path, t, t);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      // A read-only layout still answers "present".
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return true;
      throw ioError(`cannot access ${path}`, e);
    }
  }
}

function checkLayoutFile(bytes: Buffer, name: string): void {
  let version: unknown;
  try {
    version = (JSON.parse(bytes.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (e) {
    throw new CairnError('STORE_CORRUPT', `${name}: the oci-layout file is not valid JSON`, { cause: e, hint: 'the layout was damaged' });
  }
  if (version !== LAYOUT_VERSION) {
    throw new CairnError('UNSUPPORTED', `${name} has imageLayoutVersion ${String(version)}; cairn reads ${LAYOUT_VERSION}`, { hint: 'convert the layout with skopeo copy' });
  }
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`cannot read ${path}`, e);
  }
}

function notify(progress: ProgressSink | undefined, digest: Digest, tag: string | undefined): void {
  progress?.({ kind: 'manifest', digest, ...(tag !== undefined ? { tag } : {}) });
}

function ioError(message: string, cause: unknown): CairnError {
  return new CairnError('IO', `${message}: ${messageOf(cause)}`, { cause, hint: 'check the permissions of the folder' });
}
