/**
 * Full check of an OCI layout folder (image-spec image-layout.md): the oci-layout file, index.json, every
 * blob's content against its file name, and every descriptor reachable from index.json (present, right
 * size, manifests well-formed). Temp files are counted, not reported: they are the legitimate remains of
 * interrupted writes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, hashToDigest, isDigest } from '../../digest.js';
import { CairnError, messageOf } from '../../errors.js';
import { isTempName } from '../../atomic-file.js';
import { parseLayoutIndex, tagsOf } from './index-json.js';
import { MAX_MANIFEST_BYTES } from './manifest-refs.js';
import { LAYOUT_VERSION, layoutPaths } from './paths.js';
import { reachableDescriptors } from './reachable.js';

export interface LayoutReport {
  /** Blob files whose digest was recomputed. */
  blobs: number;
  bytes: number;
  /** Descriptors reachable from index.json. */
  reachable: number;
  /** Stray temp files of interrupted writes. */
  temps: number;
  tags: string[];
}

/** Validates the layout in `dir`; throws STORE_CORRUPT listing every problem found. */
export async function validateLayout(dir: string): Promise<LayoutReport> {
  const paths = layoutPaths(dir);
  const name = `oci:${dir}`;
  const problems: string[] = [];
  try {
    const v = (JSON.parse(await readFile(paths.ociLayout, 'utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    if (v !== LAYOUT_VERSION) problems.push(`oci-layout has imageLayoutVersion ${String(v)}`);
  } catch (e) {
    problems.push(`oci-layout: ${messageOf(e)}`);
  }
  const report: LayoutReport = { blobs: 0, bytes: 0, reachable: 0, temps: 0, tags: [] };
  const sizes = new Map<string, number>();
  for (const entry of await readdir(paths.blobs).catch(() => [] as string[])) {
    if (isTempName(entry)) {
      report.temps++;
      continue;
    }
    if (!isDigest(`sha256:${entry}`)) {
      problems.push(`blobs/sha256/${entry} is not named by a sha256 digest`);
      continue;
    }
    const path = join(paths.blobs, entry);
    const got = await hashFile(path);
    report.blobs++;
    report.bytes += got.size;
    sizes.set(`sha256:${entry}`, got.size);
    if (got.digest !== `sha256:${entry}`) problems.push(`blobs/sha256/${entry} holds content with digest ${got.digest}`);
  }
  for (const entry of await readdir(dir)) if (isTempName(entry)) report.temps++;
  let indexBytes: Buffer | undefined;
  try {
    indexBytes = await readFile(paths.index);
  } catch (e) {
    problems.push(`index.json: ${messageOf(e)}`);
  }
  if (indexBytes !== undefined) {
    try {
      const index = parseLayoutIndex(indexBytes, name);
      report.tags = tagsOf(index);
      const live = await reachableDescriptors(
        index,
        async (d) => {
          const size = sizes.get(d.digest);
          if (size === undefined || size > MAX_MANIFEST_BYTES) return undefined;
          return readFile(paths.blob(d.digest as Digest));
        },
        (p) => problems.push(p),
      );
      report.reachable = live.size;
      for (const d of live.values()) {
        const size = sizes.get(d.digest);
        if (size === undefined) problems.push(`${d.mediaType} ${d.digest} is referenced but missing`);
        else if (size !== d.size) problems.push(`${d.digest} is ${size} bytes; a descriptor says ${d.size}`);
      }
    } catch (e) {
      problems.push(messageOf(e));
    }
  }
  if (problems.length > 0) {
    throw new CairnError('STORE_CORRUPT', `${name} is not a valid OCI layout: ${problems.join('; ')}`, {
      hint: 'the layout was damaged; copy its images to a fresh layout',
    });
  }
  return report;
}

async function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: hashToDigest(hash), size };
}
