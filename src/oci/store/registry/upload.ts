/**
 * Blob upload (distribution-spec "Pushing blobs"). A session starts with `POST /v2/<name>/blobs/uploads/`
 * (202 + `Location`). Then either
 * - monolithic (blobs up to `monolithicMax`): `PUT <location>&digest=<d>` with the whole body streamed, or
 * - chunked: `PATCH <location>` per chunk with `Content-Range: <start>-<end>`, each 202 giving the next
 *   `Location` and the `Range` received so far, then `PUT <location>&digest=<d>` with no body.
 *   The chunk size is at least the registry's `OCI-Chunk-Min-Length`.
 * The source passes through a VerifyingStream (or is one already: store blobs are opened verified), so wrong
 * content fails with DIGEST_MISMATCH / SIZE_MISMATCH before the final PUT could commit it. On a transient failure a chunked upload asks the session's status
 * (`GET <location>` → 204 + `Range`) and resumes within the current chunk; anything else restarts the upload
 * (a new session, `open()` again). All retries of one blob share one budget.
 */
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { VerifyingStream } from '../../digest.js';
import type { BlobDescriptor, TransferOptions } from '../store.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import type { HttpResponse } from './http.js';
import { RetryBudget } from './retry.js';

export interface UploadTarget {
  repository: string;
  /** Scopes for pushing to the repository. */
  scopes: string[];
  /** Store name, for messages. */
  name: string;
  /** Blobs larger than `monolithicMax` are sent in chunks of this size (each held in memory). */
  chunkSize: number;
  /** Largest blob streamed in one request; a failure restarts it from the beginning. */
  monolithicMax: number;
}

/** Thrown inside an attempt, after its failure was counted, to start the upload over. */
const RESTART = Symbol('restart upload');

export async function uploadBlob(
  client: RegistryClient,
  target: UploadTarget,
  desc: BlobDescriptor,
  open: () => Promise<Readable>,
  opts: TransferOptions,
): Promise<void> {
  const what = `upload blob ${desc.digest} to ${target.name}`;
  const budget = new RetryBudget(client.retry, what, opts);
  const progress = opts.progress;
  const report = (done: number): void => progress?.({ kind: 'blob-progress', digest: desc.digest, done, total: desc.size });
  const send = (req: { method: string; url: string; headers?: Record<string, string>; body?: Buffer | (() => Promise<Readable>); ok: number[] }): Promise<HttpResponse> =>
    client.send({ ...req, scopes: target.scopes, what, retry: false }, opts); // tries are counted by `budget`

  /** The source, checked against `desc` (by itself when it is a VerifyingStream for `desc`, as store blobs are). */
  const openVerified = async (onBytes?: (done: number) => void): Promise<Readable> => {
    const source = await open();
    const done = (): void => { /* errors surface on the returned stream */ };
    const verified = source instanceof VerifyingStream && source.verifies(desc);
    const counted = onBytes ? pipeline(source, new Counter(onBytes), done) : source;
    return verified ? counted : pipeline(counted, new VerifyingStream(desc, what), done);
  };

  let session: string | undefined; // the open upload session, cancelled when an attempt fails
  const start = async (): Promise<{ url: string; minChunk: number }> => {
    const res = await send({ method: 'POST', url: `/v2/${target.repository}/blobs/uploads/`, headers: { 'content-length': '0' }, ok: [202] });
    await res.body.dump();
    session = locationOf(res, what);
    return { url: session, minChunk: Number(res.headers['oci-chunk-min-length']) || 0 };
  };
  const cancel = async (): Promise<void> => {
    const url = session;
    session = undefined;
    if (url) await send({ method: 'DELETE', url, ok: [204] }).then((r) => r.body.dump(), () => { /* best effort: registries expire sessions */ });
  };

  const commit = async (url: string, body?: () => Promise<Readable>): Promise<void> => {
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(body ? desc.size : 0) };
    const res = await send({ method: 'PUT', url: withQuery(url, 'digest', desc.digest), headers, body, ok: [201] });
    await res.body.dump();
  };

  const monolithic = async (): Promise<void> => {
    const { url } = await start();
    await commit(url, () => openVerified(report));
  };

  /** Sends `chunk` (which starts at byte `offset` of the blob); returns the next location. */
  const patch = async (url: string, chunk: Buffer, offset: number): Promise<string> => {
    let from = 0; // bytes of `chunk` the registry already has
    for (;;) {
      try {
        const headers = {
          'content-type': 'application/octet-stream',
          'content-range': `${offset + from}-${offset + chunk.length - 1}`,
          'content-length': String(chunk.length - from),
        };
        const res = await send({ method: 'PATCH', url, headers, body: chunk.subarray(from), ok: [202] });
        await res.body.dump();
        url = session = locationOf(res, what);
        const received = rangeReceived(res.headers.range);
        if (received === undefined || received === offset + chunk.length) return url;
        if (received <= offset + from || received > offset + chunk.length) {
          throw new RegistryError('REGISTRY_ERROR', `${what}: the registry acknowledged ${received} bytes after being sent ${offset + chunk.length}`, { transient: true });
        }
        from = received - offset; // it kept part of the chunk: send the rest
      } catch (e) {
        if (e === RESTART) throw e;
        await budget.failed(e);
        const status = await send({ method: 'GET', url, ok: [204] }).catch(() => undefined);
        await status?.body.dump();
        const received = status && rangeReceived(status.headers.range);
        if (!status || received === undefined || received < offset || received > offset + chunk.length) throw RESTART;
        url = session = locationOf(status, what);
        from = received - offset;
        if (from === chunk.length) return url;
      }
    }
  };

  const chunked = async (): Promise<void> => {
    let { url, minChunk } = await start();
    const source = await openVerified();
    try {
      let offset = 0;
      for await (const chunk of rechunk(source, Math.max(target.chunkSize, minChunk))) {
        url = await patch(url, chunk, offset);
        offset += chunk.length;
        report(offset);
      }
    } finally {
      source.destroy();
    }
    await commit(url);
  };

  progress?.({ kind: 'blob-start', digest: desc.digest, total: desc.size, action: 'upload' });
  for (;;) {
    try {
      await (desc.size > target.monolithicMax ? chunked() : monolithic());
      break;
    } catch (e) {
      await cancel();
      if (e !== RESTART) await budget.failed(e);
    }
  }
  progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'upload' });
}

/** The absolute upload URL from a response's `Location`. */
function locationOf(res: HttpResponse, what: string): string {
  const loc = res.headers.location;
  if (typeof loc !== 'string' || !loc) throw new RegistryError('REGISTRY_ERROR', `${what}: the registry answered ${res.status} without a Location header`);
  return new URL(loc, res.url).toString();
}

/** Appends a query parameter without re-encoding the rest (upload URLs may be signed). */
export function withQuery(url: string, key: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

/**
 * Bytes received per a `Range: 0-<end>` header (end inclusive). "0-0" is ambiguous (none or one byte; distribution
 * sends it for an empty session), so it reads as undefined: the caller then trusts nothing.
 */
export function rangeReceived(header: string | string[] | undefined): number | undefined {
  const m = typeof header === 'string' ? /^(?:bytes=)?0-(\d+)$/.exec(header.trim()) : null;
  if (!m) return undefined;
  const end = Number(m[1]);
  return end === 0 ? undefined : end + 1;
}

/** Regroups a byte stream into chunks of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (let buf of source) {
    while (held + buf.length >= size) {
      const take = size - held;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      held = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      parts.push(buf);
      held += buf.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts);
}

/** Pass-through that reports the running byte count every MiB. */
class Counter extends Transform {
  private done = 0;
  private reported = 0;
  constructor(private readonly onBytes: (done: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.done += chunk.length;
    if (this.done - this.reported >= 1 << 20) {
      this.reported = this.done;
      this.onBytes(this.done);
    }
    cb(null, chunk);
  }
}
