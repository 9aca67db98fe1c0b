/**
 * Layer blobs made from composed trees, kept under the cairn home by a key digesting everything they
 * depend on (`composeKey`, the mtime, the writer's format), so that `stack create` with an unchanged
 * lock skips downloading, composing and configuring: `<dir>/<key>.tar.gz` plus `<dir>/<key>.json`
 * (`{ digest, diffID, size }`). Both are written atomically, the JSON last, so an entry is complete once
 * its JSON exists. A blob whose size does not match its JSON is treated as absent (and replaced); its
 * bytes are verified against the digest anyway when a store takes them.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../oci/atomic-file.js';
import { type Digest, isDigest } from '../../oci/digest.js';
import { fileLayer, type Layer } from '../../oci/layer.js';
import type { LayerWriteResult } from '../../oci/layer/tar-writer.js';

export class LayerCache {
  constructor(readonly dir: string) {}

  /** The cached layer for `key`, or undefined. */
  async get(key: string): Promise<Layer | undefined> {
    let info: { digest: Digest; diffID: Digest; size: number };
    try {
      info = JSON.parse(await readFile(this.infoPath(key), 'utf8')) as typeof info;
      if (!isDigest(info.digest) || !isDigest(info.diffID) || !Number.isSafeInteger(info.size)) return undefined;
      if ((await stat(this.blobPath(key))).size !== info.size) return undefined;
    } catch {
      return undefined;
    }
    return fileLayer(this.blobPath(key), info);
  }

  /** Writes the blob for `key` with `write(dest)`, records it, and returns it as a layer. */
  async put(key: string, write: (dest: string) => Promise<LayerWriteResult>): Promise<Layer> {
    await mkdir(this.dir, { recursive: true });
    const r = await write(this.blobPath(key));
    const info = { digest: r.digest, diffID: r.diffID, size: r.size };
    await writeFileAtomic(this.infoPath(key), JSON.stringify(info) + '\n');
    return fileLayer(this.blobPath(key), info);
  }

  private blobPath(key: string): string {
    return join(this.dir, `${key}.tar.gz`);
  }

  private infoPath(key: string): string {
    return join(this.dir, `${key}.json`);
  }
}
