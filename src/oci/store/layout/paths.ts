/**
 * File names of an OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json` and
 * `blobs/<alg>/<encoded>`, plus cairn's lock file `index.json.lock` (other tools ignore unknown files).
 */
import { join } from 'node:path';
import { type Digest, digestHex } from '../../digest.js';

export const OCI_LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const LOCK_FILE = 'index.json.lock';
/** The only `imageLayoutVersion` the spec defines. */
export const LAYOUT_VERSION = '1.0.0';

export interface LayoutPaths {
  root: string;
  ociLayout: string;
  index: string;
  lock: string;
  /** `blobs/sha256`, the folder of every blob cairn writes. */
  blobs: string;
  blob(digest: Digest): string;
}

export function layoutPaths(root: string): LayoutPaths {
  const blobs = join(root, 'blobs', 'sha256');
  return {
    root,
    ociLayout: join(root, OCI_LAYOUT_FILE),
    index: join(root, INDEX_FILE),
    lock: join(root, LOCK_FILE),
    blobs,
    blob: (digest) => join(blobs, digestHex(digest)),
  };
}
