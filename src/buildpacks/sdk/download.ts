/**
 * Verified downloads: the archive streams through a digest check and into a staging folder; only a complete
 * download whose digest matches is kept (a partial or damaged one is removed and retried up to 3 times).
 *
 * Digests are Subresource Integrity strings (`sha512-<base64>`, as npm registries give in `dist.integrity`)
 * or `sha256:<hex>` (nodejs.org SHASUMS256.txt).
 */
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Env } from './context.js';
import { BuildpackError, messageOf } from './errors.js';
import { get } from './http.js';
import { extractTar } from './tar.js';

export interface ExpectedDigest {
  algorithm: 'sha512' | 'sha384' | 'sha256' | 'sha1';
  /** Hex. */
  hex: string;
}

/** Parses `sha512-<base64>` (the strongest of several space-separated SRI entries) or `<alg>:<hex>`. */
export function parseDigest(text: string): ExpectedDigest {
  const order = ['sha1', 'sha256', 'sha384', 'sha512'];
  let best: ExpectedDigest | undefined;
  for (const part of text.trim().split(/\s+/)) {
    const sri = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/.exec(part);
    const hex = /^(sha1|sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(part);
    const d = sri ? { algorithm: sri[1], hex: Buffer.from(sri[2]!, 'base64').toString('hex') } : hex ? { algorithm: hex[1], hex: hex[2]!.toLowerCase() } : undefined;
    if (d && (!best || order.indexOf(d.algorithm!) > order.indexOf(best.algorithm))) best = d as ExpectedDigest;
  }
  if (!best) throw new BuildpackError(`unsupported digest ${JSON.stringify(text)}`, { hint: 'the registry or mirror gave no sha512/sha256 digest for the file' });
  return best;
}

export interface DownloadOptions {
  env: Env;
  digest: ExpectedDigest;
  /** Folder to extract into; emptied first and on failure. */
  staging: string;
  /** Archive path → path under `staging`, or undefined to skip. */
  map: (archivePath: string) => string | undefined;
  gzip: boolean;
  what: string;
  /** Called once per attempt with the byte count so far (progress). */
  onBytes?: (bytes: number) => void;
}

/** Downloads `url` and extracts it into `opts.staging`; returns the number of bytes downloaded. */
export async function downloadArchive(url: string, opts: DownloadOptions): Promise<number> {
  let last: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    await rm(opts.staging, { recursive: true, force: true });
    await mkdir(opts.staging, { recursive: true });
    const hash = createHash(opts.digest.algorithm);
    let bytes = 0;
    try {
      const res = await get(url, { env: opts.env, what: opts.what });
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const c of res as AsyncIterable<Buffer>) {
          hash.update(c);
          bytes += c.length;
          opts.onBytes?.(bytes);
          yield c;
        }
      }
      await extractTar(hashed(), (p) => {
        const to = opts.map(p);
        return to === undefined ? undefined : { root: opts.staging, path: to };
      }, { gzip: opts.gzip });
      const got = hash.digest('hex');
      if (got !== opts.digest.hex) {
        await rm(opts.staging, { recursive: true, force: true });
        throw new BuildpackError(`${opts.what}: the download from ${url} does not match its ${opts.digest.algorithm} digest (expected ${opts.digest.hex.slice(0, 16)}…, got ${got.slice(0, 16)}…)`, {
          hint: 'the file was damaged or replaced on the way or on the mirror; nothing was installed. Try again; if it persists, check the mirror',
        });
      }
      return bytes;
    } catch (e) {
      last = e;
      await rm(opts.staging, { recursive: true, force: true });
      // A digest mismatch or an HTTP error answer is not retried; a connection that broke mid-way is.
      if (e instanceof BuildpackError && !/cannot extract/.test(e.message)) throw e;
    }
  }
  if (last instanceof BuildpackError) throw last;
  throw new BuildpackError(`${opts.what}: download of ${url} failed: ${messageOf(last)}`, { cause: last, hint: 'check the network and the mirror setting' });
}
