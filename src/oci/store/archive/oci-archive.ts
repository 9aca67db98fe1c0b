/**
 * oci-archive: an OCI image layout (image-spec image-layout.md) in a tar file, as skopeo's `oci-archive:`
 * transport reads it; also the format of buildpackages (`.cnb`). Write-only: content is staged in a layout
 * beside the target (so it reads back while being written), and `close()` drops unreachable blobs and
 * writes the tar atomically (temp + fsync + rename) and deterministically: `blobs/`, `blobs/sha256/<hex>`
 * sorted, then `index.json` and `oci-layout`, with fixed times and ownership.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../../digest.js';
import { streamToFileAtomic, TEMP_PREFIX, isTempName } from '../../atomic-file.js';
import { type LayoutStore, openLayoutStore } from '../layout/layout-store.js';
import type { BlobDescriptor, ManifestData, Store, TransferOptions } from '../store.js';
import { type PackEntry, packEntries } from './tar-pack.js';

/** Opens an oci-archive to be written at `path` by `close()`. */
export async function createOciArchive(path: string): Promise<OciArchiveWriter> {
  const stageDir = join(dirname(path), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${basename(path)}.d`);
  const name = `oci-archive:${path}`;
  return new OciArchiveWriter(name, await openLayoutStore(stageDir, { create: true, name }), path);
}

export class OciArchiveWriter implements Store {
  constructor(
    readonly name: string,
    private readonly stage: LayoutStore,
    readonly path: string,
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

  getManifest(ref: string): Promise<ManifestData> {
    return this.stage.getManifest(ref);
  }

  putManifest(manifest: { mediaType: string; bytes: Buffer }, tag?: string, opts?: TransferOptions): Promise<Digest> {
    return this.stage.putManifest(manifest, tag, opts);
  }

  listTags(): Promise<string[]> {
    return this.stage.listTags();
  }

  deleteTag(tag: string): Promise<void> {
    return this.stage.deleteTag(tag);
  }

  /** Writes the archive (when it holds any image) and removes the staging folder. */
  async close(): Promise<void> {
    try {
      await this.stage.gc({ graceMs: 0 });
      const indexBytes = await readFile(this.stage.paths.index);
      const hexes = (await readdir(this.stage.paths.blobs)).filter((n) => !isTempName(n)).sort();
      if (hexes.length === 0) return;
      const entries: PackEntry[] = [{ name: 'blobs', type: 'directory' }, { name: 'blobs/sha256', type: 'directory' }];
      for (const hex of hexes) {
        const file = join(this.stage.paths.blobs, hex);
        entries.push({ name: `blobs/sha256/${hex}`, type: 'file', size: (await stat(file)).size, open: async () => createReadStream(file) });
      }
      entries.push({ name: 'index.json', type: 'file', data: indexBytes });
      entries.push({ name: 'oci-layout', type: 'file', data: await readFile(this.stage.paths.ociLayout) });
      await streamToFileAtomic(this.path, packEntries(entries));
    } finally {
      await this.discard();
    }
  }

  /** Drops everything staged without writing the archive. */
  async discard(): Promise<void> {
    await rm(this.stage.dir, { recursive: true, force: true });
  }
}
