/**
 * Blob download (distribution-spec "Pulling blobs"): `GET /v2/<name>/blobs/<digest>`, redirects followed.
 * A connection that breaks or stalls mid-body, or a body that ends short of the descriptor's size, is resumed
 * with `Range: bytes=<received>-` (a server that ignores Range and answers 200 is read from the start, skipping
 * what was already passed on). All tries of one blob share one retry budget.
 * The bytes are verified against the descriptor as they are consumed.
 */
import { pipeline, Readable } from 'node:stream';
import { type Digest, VerifyingStream } from '../../digest.js';
import type { TransferOptions } from '../store.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import type { HttpResponse } from './http.js';
import { RetryBudget } from './retry.js';

const PROGRESS_STEP = 1 << 20;

export async function downloadBlob(
  client: RegistryClient,
  target: { repository: string; scopes: string[]; name: string },
  desc: { digest: Digest; size?: number },
  opts: TransferOptions,
): Promise<Readable> {
  const what = `GET blob ${desc.digest} from ${target.name}`;
  // One budget for every try of this blob: the first GET, and each resume after a broken body.
  const budget = new RetryBudget(client.retry, what, opts);
  const get = async (from: number): Promise<HttpResponse> => {
    for (;;) {
      try {
        return await send(from);
      } catch (e) {
        await budget.failed(e);
      }
    }
  };
  const send = (from: number): Promise<HttpResponse> =>
    client.send({
      method: 'GET',
      url: `/v2/${target.repository}/blobs/${desc.digest}`,
      headers: from > 0 ? { range: `bytes=${from}-` } : {},
      scopes: target.scopes,
      ok: from > 0 ? [200, 206] : [200],
      what,
      notFound: 'BLOB_NOT_FOUND',
      retry: false,
    }, opts);
  const first = await get(0);
  const length = Number(first.headers['content-length']);
  const total = desc.size ?? (Number.isFinite(length) ? length : 0);
  const progress = opts.progress;
  progress?.({ kind: 'blob-start', digest: desc.digest, total, action: 'download' });

  async function* chunks(): AsyncGenerator<Buffer> {
    let res = first;
    let got = 0;
    let reported = 0;
    try {
      for (;;) {
        let skip = res.status === 200 ? got : 0;
        try {
          for await (const piece of res.body as AsyncIterable<Buffer>) {
            let chunk = piece;
            if (skip > 0) {
              const n = Math.min(skip, chunk.length);
              skip -= n;
              chunk = chunk.subarray(n);
              if (chunk.length === 0) continue;
            }
            got += chunk.length;
            if (progress && got - reported >= PROGRESS_STEP) {
              reported = got;
              progress({ kind: 'blob-progress', digest: desc.digest, done: got, total });
            }
            yield chunk;
          }
          // A body that ends cleanly but short (a proxy or server cut it without closing the connection)
          // is resumed like a broken one.
          if (desc.size === undefined || got >= desc.size) return;
          throw new RegistryError('UNREACHABLE', `${what}: the body ended after ${got} of ${desc.size} bytes`, { transient: true, hint: 'retry; if it persists, check the proxies between here and the registry' });
        } catch (e) {
          res.body.destroy();
          await budget.failed(client.networkError(e, what));
          res = await get(got);
        }
      }
    } finally {
      res.body.destroy();
    }
  }

  const verifier = new VerifyingStream(desc, what);
  pipeline(Readable.from(chunks(), { objectMode: false }), verifier, () => { /* errors surface on `verifier` */ });
  verifier.on('end', () => {
    progress?.({ kind: 'blob-progress', digest: desc.digest, done: total, total });
    progress?.({ kind: 'blob-done', digest: desc.digest, total, action: 'download' });
  });
  return verifier;
}
