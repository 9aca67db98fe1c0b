/**
 * The descriptors reachable from a layout's index.json: its entries, each manifest's config and layers,
 * each index's children, recursively (image-spec image-layout.md, manifest.md, image-index.md). A
 * referrer's `subject` is not followed: it points the other way and need not be present.
 */
import { isIndexType, isManifestType } from '../../media-types.js';
import type { Descriptor, Index } from '../../spec.js';
import { manifestRefs } from './manifest-refs.js';

/**
 * Walks from `index`. `readManifest` returns a manifest's bytes, or undefined when absent (the caller
 * reports that itself); documents that do not parse are passed to `problem`. Returns every reachable
 * descriptor by digest.
 */
export async function reachableDescriptors(
  index: Index,
  readManifest: (d: Descriptor) => Promise<Buffer | undefined>,
  problem: (message: string) => void,
): Promise<Map<string, Descriptor>> {
  const seen = new Map<string, Descriptor>();
  const queue: Descriptor[] = [...index.manifests];
  for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
    if (seen.has(d.digest)) continue;
    seen.set(d.digest, d);
    if (!isManifestType(d.mediaType) && !isIndexType(d.mediaType)) continue;
    const bytes = await readManifest(d);
    if (bytes === undefined) continue;
    try {
      const refs = manifestRefs(d.mediaType, bytes, `manifest ${d.digest}`);
      queue.push(...refs.blobs, ...refs.children);
    } catch (e) {
      problem(e instanceof Error ? e.message : String(e));
    }
  }
  return seen;
}
