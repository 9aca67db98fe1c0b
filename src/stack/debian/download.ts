/**
 * Downloads .deb files into the content cache, each checked against the sha256 and size that the signed
 * index (or the lock file) gives for it. A cached file is verified again before it is reused.
 */
import { parseDigest } from '../../oci/digest.js';
import { mapLimit } from '../../oci/limit.js';
import type { ProgressSink } from '../../oci/progress.js';
import type { ContentCache } from './cache.js';
import { type HttpFetch, httpGetStream } from './http.js';

/** What is needed to fetch one package file. */
export interface DebRef {
  name: string;
  /** Mirror root URL, without trailing slash. */
  mirror: string;
  /** Path below the mirror root, e.g. `pool/main/g/glibc/libc6_2.36-9+deb12u10_amd64.deb`. */
  filename: string;
  sha256: string;
  size: number;
}

export interface DownloadOptions {
  cache: ContentCache;
  fetch: HttpFetch;
  /** Parallel downloads (default 6). */
  concurrency?: number;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

/** Makes sure every package is in the cache; returns the cache path of each, in input order. */
export async function downloadDebs(refs: readonly DebRef[], opts: DownloadOptions): Promise<string[]> {
  return mapLimit(refs, opts.concurrency ?? 6, async (ref) => {
    const digest = parseDigest(`sha256:${ref.sha256}`);
    if (await opts.cache.has(ref.sha256, ref.size)) {
      opts.progress?.({ kind: 'blob-done', digest, total: ref.size, action: 'skip' });
      return opts.cache.path(ref.sha256);
    }
    const url = `${ref.mirror}/${ref.filename}`;
    opts.progress?.({ kind: 'blob-start', digest, total: ref.size, action: 'download' });
    const body = await httpGetStream(url, opts.signal ? { fetch: opts.fetch, signal: opts.signal } : { fetch: opts.fetch });
    const path = await opts.cache.putStream(ref.sha256, body, url, ref.size);
    opts.progress?.({ kind: 'blob-done', digest, total: ref.size, action: 'download' });
    return path;
  });
}
