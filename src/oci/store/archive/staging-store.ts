/**
 * The write side shared by the docker-archive and docker-daemon stores: blobs and manifests are staged in
 * a private OCI layout (verified as they arrive, like any layout write), tags are kept in memory, and
 * `close()` of the concrete store turns the staged images into its output (a file, a daemon load).
 *
 * Such outputs hold single-platform images only: an index is refused with UNSUPPORTED. Tags must be full
 * `name:tag` references, because they become `RepoTags`.
 */
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Digest } from '../../digest.js';
import { CairnError } from '../../errors.js';
import { isIndexType } from '../../media-types.js';
import type { Manifest } from '../../spec.js';
import { checkRefName, isDigestRef } from '../layout/index-json.js';
import type { LayoutStore } from '../layout/layout-store.js';
import { manifestNotFound } from '../layout/store-errors.js';
import type { BlobDescriptor, ManifestData, Store, TransferOptions } from '../store.js';

export interface StagedImage {
  digest: Digest;
  mediaType: string;
  manifest: Manifest;
  /** Sorted `name:tag` references. */
  tags: string[];
}

interface Record {
  mediaType: string;
  tags: Set<string>;
  /** Stored without a tag at least once: written even when it carries no tag. */
  untagged: boolean;
}

/** Throws INVALID_ARGUMENT unless `tag` is a `name:tag` reference (what RepoTags holds). */
export function checkRepoTag(tag: string): void {
  const colon = tag.lastIndexOf(':');
  if (colon <= tag.lastIndexOf('/') || colon === tag.length - 1 || tag.includes('@')) {
    throw new CairnError('INVALID_ARGUMENT', `"${tag}" is not a full name:tag reference`, {
      hint: 'docker archives and engines name images as NAME:TAG, e.g. myapp:latest or 127.0.0.1:5000/team/app:1.0',
    });
  }
  checkRefName(tag);
}

export abstract class StagingStore implements Store {
  private readonly records = new Map<string, Record>();

  constructor(
    readonly name: string,
    protected readonly stage: LayoutStore,
  ) {}

  statBlob(digest: Digest): Promise<number | undefined> {
    return this.stage.statBlob(digest);
  }

  openBlob(desc: { digest: Digest; size?: number }): Promise<Readable> {
    return this.stage.openBlob(desc);
  }

  putBlob(desc: BlobDescriptor, open: () => Promise<Readable>, opts?: TransferOptions): Promise<boolean> {
    return this.stage.putBlob(desc, open, opts);
  }

  async getManifest(ref: string): Promise<ManifestData> {
    if (isDigestRef(ref)) {
      if (!this.records.has(ref)) throw manifestNotFound(ref, this.name, undefined);
      return this.stage.getManifest(ref);
    }
    for (const [digest, r] of this.records) if (r.tags.has(ref)) return this.stage.getManifest(digest);
    throw manifestNotFound(ref, this.name, await this.listTags());
  }

  async putManifest(manifest: { mediaType: string; bytes: Buffer }, tag?: string, opts?: TransferOptions): Promise<Digest> {
    if (tag !== undefined) checkRepoTag(tag);
    if (isIndexType(manifest.mediaType)) {
      throw new CairnError('UNSUPPORTED', `${this.name} holds single-platform images, not an image index`, {
        hint: 'choose one platform of the image (--platform) when writing to a docker archive or engine',
      });
    }
    const digest = await this.stage.putManifest(manifest, undefined, opts);
    const record = this.records.get(digest) ?? { mediaType: manifest.mediaType, tags: new Set<string>(), untagged: false };
    this.records.set(digest, record);
    if (tag === undefined) {
      record.untagged = true;
    } else {
      for (const r of this.records.values()) r.tags.delete(tag);
      record.tags.add(tag);
    }
    return digest;
  }

  async listTags(): Promise<string[]> {
    return [...this.records.values()].flatMap((r) => [...r.tags]).sort();
  }

  async deleteTag(tag: string): Promise<void> {
    for (const r of this.records.values()) if (r.tags.delete(tag)) return;
    throw manifestNotFound(tag, this.name, await this.listTags());
  }

  /** The images the output will hold, in the order they were first stored. */
  protected async stagedImages(): Promise<StagedImage[]> {
    const out: StagedImage[] = [];
    for (const [digest, r] of this.records) {
      if (r.tags.size === 0 && !r.untagged) continue;
      const m = await this.stage.getManifest(digest);
      out.push({ digest: m.digest, mediaType: r.mediaType, manifest: JSON.parse(m.bytes.toString('utf8')) as Manifest, tags: [...r.tags].sort() });
    }
    return out;
  }

  /** Drops everything staged without writing any output. */
  async discard(): Promise<void> {
    this.records.clear();
    await rm(this.stage.dir, { recursive: true, force: true });
  }

  abstract close(): Promise<void>;
}
