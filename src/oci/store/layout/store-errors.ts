/** The not-found errors every non-registry store throws (store.ts: codes name what is missing and where). */
import { CairnError } from '../../errors.js';

export function blobNotFound(digest: string, store: string): CairnError {
  return new CairnError('BLOB_NOT_FOUND', `blob ${digest} not found in ${store}`, { hint: 'copy the image again from its source' });
}

/** `tags` (the store's tags, for the hint) is undefined when `ref` was a digest. */
export function manifestNotFound(ref: string, store: string, tags: string[] | undefined): CairnError {
  const hint = tags === undefined ? 'check the digest' : tags.length === 0 ? `${store} has no tags` : `tags present: ${tags.slice(0, 10).join(', ')}${tags.length > 10 ? ', …' : ''}`;
  return new CairnError('MANIFEST_NOT_FOUND', `manifest ${ref} not found in ${store}`, { hint });
}

export function readOnly(store: string, what: string): CairnError {
  return new CairnError('UNSUPPORTED', `${store} is read-only: cannot ${what}`, { hint: 'write to an oci: layout, a registry or a new archive file instead' });
}
