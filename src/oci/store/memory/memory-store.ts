/**
 * A Store held in memory, for unit tests. It keeps the contracts of store.ts the way the layout store
 * does: content is verified before it is visible, manifests are blobs too (so `statBlob` sees them), a
 * manifest whose blobs or child manifests are missing is refused, and tags are sorted when listed.
 */
import { pipeline, Readable } from 'node:stream';
import { type Digest, parseDigest, sha256, VerifyingStream, verifyBytes } from '../../digest.js';
import { CairnError } from '../../errors.js';
import type { BlobDescriptor, ManifestData, Store, TransferOptions } from '../store.js';
import { checkRefName, isDigestRef } from '../layout/index-json.js';
import { blobNotFound, manifestNotFound } from '../layout/store-errors.js';
import { manifestRefs, sniffManifestType } from '../layout/manifest-refs.js';

export class MemoryStore implements Store {
  readonly name: string;
  private readonly blobs = new Map<string, Buffer>();
  private readonly manifestTypes = new Map<string, string>();
  private readonly tags = new Map<string, Digest>();

  constructor(label = 'test') {
    this.name = `memory:${label}`;
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    return this.blobs.get(parseDigest(digest))?.length;
  }

  async openBlob(desc: { digest: Digest; size?: number }): Promise<Readable> {
    const bytes = this.blobs.get(parseDigest(desc.digest));
    if (!bytes) throw blobNotFound(desc.digest, this.name);
    return Readable.from([bytes]).pipe(new VerifyingStream(desc, `blob ${desc.digest} in ${this.name}`));
  }

  async putBlob(desc: BlobDescriptor, source: () => Promise<Readable>, opts: TransferOptions = {}): Promise<boolean> {
    parseDigest(desc.digest);
    if (this.blobs.has(desc.digest)) {
      opts.progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'skip' });
      return false;
    }
    const chunks: Buffer[] = [];
    const verifier = pipeline(await source(), new VerifyingStream(desc, `blob ${desc.digest} for ${this.name}`), () => undefined);
    for await (const chunk of verifier.iterator({ destroyOnReturn: true })) {
      opts.signal?.throwIfAborted();
      chunks.push(chunk as Buffer);
    }
    this.blobs.set(desc.digest, Buffer.concat(chunks));
    return true;
  }

  async getManifest(ref: string): Promise<ManifestData> {
    const digest = isDigestRef(ref) ? parseDigest(ref) : this.tags.get(ref);
    const bytes = digest === undefined ? undefined : this.blobs.get(digest);
    if (digest === undefined || bytes === undefined) throw manifestNotFound(ref, this.name, digest === undefined ? [...this.tags.keys()].sort() : undefined);
    verifyBytes(bytes, { digest }, `manifest ${digest} in ${this.name}`);
    return { digest, bytes: Buffer.from(bytes), mediaType: this.manifestTypes.get(digest) ?? sniffManifestType(bytes, undefined, `manifest ${digest} in ${this.name}`) };
  }

  async putManifest(manifest: { mediaType: string; bytes: Buffer }, tag?: string, opts: TransferOptions = {}): Promise<Digest> {
    if (tag !== undefined) checkRefName(tag);
    const digest = sha256(manifest.bytes);
    const refs = manifestRefs(manifest.mediaType, manifest.bytes, `manifest ${digest}`);
    for (const [kind, list] of [['blob', refs.blobs], ['manifest', refs.children]] as const) {
      for (const d of list) {
        const have = this.blobs.get(d.digest)?.length;
        if (have === d.size) continue;
        throw new CairnError(kind === 'blob' ? 'BLOB_NOT_FOUND' : 'MANIFEST_NOT_FOUND', `cannot store manifest ${digest} in ${this.name}: its ${kind} ${d.digest} ${have === undefined ? 'is not stored' : `is stored with ${have} bytes, not ${d.size}`}`, {
          hint: 'store every blob and child manifest before the manifest that refers to them',
        });
      }
    }
    this.blobs.set(digest, Buffer.from(manifest.bytes));
    this.manifestTypes.set(digest, manifest.mediaType);
    if (tag !== undefined) this.tags.set(tag, digest);
    opts.progress?.({ kind: 'manifest', digest, ...(tag !== undefined ? { tag } : {}) });
    return digest;
  }

  async listTags(): Promise<string[]> {
    return [...this.tags.keys()].sort();
  }

  async deleteTag(tag: string): Promise<void> {
    if (!this.tags.delete(tag)) throw manifestNotFound(tag, this.name, [...this.tags.keys()].sort());
  }

  async close(): Promise<void> {}
}
