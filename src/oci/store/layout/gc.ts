/**
 * Garbage collection of an OCI layout: removes blobs not reachable from index.json and stale temp files.
 * Anything younger than the grace period is spared, so a concurrent writer's fresh blobs (written before
 * the manifest that will refer to them) survive. Runs under the index lock (see LayoutStore.gc). When a
 * reachable manifest is missing or unreadable the layout is corrupt and nothing is removed.
 */
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest } from '../../digest.js';
import { CairnError } from '../../errors.js';
import { isTempName } from '../../atomic-file.js';
import { parseLayoutIndex } from './index-json.js';
import type { LayoutPaths } from './paths.js';
import { reachableDescriptors } from './reachable.js';

export interface GcOptions {
  /** Blobs and temp files younger than this are kept (default one hour). */
  graceMs?: number;
}

export interface GcResult {
  blobsRemoved: number;
  bytesRemoved: number;
  tempsRemoved: number;
}

const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export async function collectGarbage(paths: LayoutPaths, name: string, now: Date, opts: GcOptions): Promise<GcResult> {
  const graceMs = opts.graceMs ?? DEFAULT_GC_GRACE_MS;
  const index = parseLayoutIndex(await readFile(paths.index), name);
  const problems: string[] = [];
  const live = await reachableDescriptors(
    index,
    async (d) => {
      try {
        return await readFile(paths.blob(d.digest));
      } catch {
        problems.push(`manifest ${d.digest} is missing`);
        return undefined;
      }
    },
    (p) => problems.push(p),
  );
  if (problems.length > 0) {
    throw new CairnError('STORE_CORRUPT', `not collecting garbage in ${name}: ${problems.join('; ')}`, {
      hint: 'the layout is damaged; copy its images to a fresh layout',
    });
  }
  const result: GcResult = { blobsRemoved: 0, bytesRemoved: 0, tempsRemoved: 0 };
  const old = async (path: string): Promise<number | undefined> => {
    const st = await lstat(path).catch(() => undefined);
    return st && st.isFile() && now.getTime() - st.mtimeMs > graceMs ? st.size : undefined;
  };
  for (const entry of await readdir(paths.blobs).catch(() => [] as string[])) {
    const path = join(paths.blobs, entry);
    const temp = isTempName(entry);
    if (!temp && (!isDigest(`sha256:${entry}`) || live.has(`sha256:${entry}`))) continue;
    const size = await old(path);
    if (size === undefined) continue;
    await rm(path, { force: true });
    if (temp) {
      result.tempsRemoved++;
    } else {
      result.blobsRemoved++;
      result.bytesRemoved += size;
    }
  }
  for (const entry of await readdir(paths.root)) {
    if (!isTempName(entry)) continue;
    const path = join(paths.root, entry);
    if ((await old(path)) === undefined) continue;
    await rm(path, { force: true });
    result.tempsRemoved++;
  }
  return result;
}
