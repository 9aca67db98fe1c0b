/**
 * What cairn's own layer compression gave for a diffID: `$CAIRN_HOME/layer-digests/<zlib>/<diffID>` holds the
 * gzip blob's digest and size (containers/image keeps a like "blob info cache"). With it, an export whose launch
 * layer has a diffID the local store already holds a blob for — the same node runtime built into another app —
 * takes that blob instead of compressing the layer again.
 *
 * Only digests this cairn's compressor wrote are recorded, keyed by the zlib version, so a blob taken from here is
 * byte for byte the blob compressing the layer would give: the image digest does not depend on what the store
 * happened to hold. A blob pulled from elsewhere (another tool's gzip of the same tar) is never taken.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, parseDigest } from '../oci/digest.js';
import { writeFileAtomic } from '../oci/atomic-file.js';
import { type Layer, storeLayer } from '../oci/layer.js';
import { MediaType } from '../oci/media-types.js';
import type { Store } from '../oci/store/store.js';

export interface LayerDigests {
  /** The layer `store` holds for `diffID`, if cairn's compressor made its blob. */
  known(diffID: Digest): Promise<Layer | undefined>;
  /** Records layers this cairn compressed (gzip layers written by the exporter). */
  record(layers: readonly Layer[]): Promise<void>;
}

/** `zlib`: the compressor's version (`process.versions.zlib`): digests from another zlib are not trusted. */
export function layerDigests(home: string, zlib: string, store: Store): LayerDigests {
  const dir = join(home, 'layer-digests', zlib.replace(/[^0-9A-Za-z._-]/g, '_'));
  const file = (diffID: Digest) => join(dir, diffID.replace(':', '-'));
  return {
    async known(diffID) {
      const text = await readFile(file(diffID), 'utf8').catch(() => undefined);
      if (!text) return undefined;
      const [digest = '', size = ''] = text.trim().split(' ');
      let d: Digest;
      try {
        d = parseDigest(digest);
      } catch {
        return undefined;
      }
      const held = await store.statBlob(d).catch(() => undefined);
      if (held === undefined || String(held) !== size) return undefined;
      return storeLayer(store, { mediaType: MediaType.OciLayerGzip, digest: d, size: held }, diffID);
    },
    async record(layers) {
      await mkdir(dir, { recursive: true });
      for (const l of layers) {
        if (l.mediaType === MediaType.OciLayerGzip) await writeFileAtomic(file(l.diffID), `${l.digest} ${l.size}\n`);
      }
    },
  };
}
