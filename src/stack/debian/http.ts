/**
 * Plain HTTP GETs against Debian mirrors, through an injected `fetch` (the CLI passes the global one).
 * Every failure names the URL: unreachable host → UNREACHABLE, 404 → NOT_FOUND, other statuses →
 * UNREACHABLE with the status. Network errors and 5xx are retried a few times.
 */
import { Readable } from 'node:stream';
import { CairnError, messageOf } from '../../oci/errors.js';

/** The subset of WHATWG fetch cairn uses. */
export type HttpFetch = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

export interface HttpOptions {
  fetch: HttpFetch;
  signal?: AbortSignal;
  /** Attempts for network errors and 5xx (default 3). */
  attempts?: number;
}

/** GETs `url`, returning the successful response (body unread). */
export async function httpGet(url: string, opts: HttpOptions): Promise<Response> {
  const attempts = opts.attempts ?? 3;
  let last: CairnError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let res: Response;
    try {
      res = await opts.fetch(url, opts.signal ? { signal: opts.signal } : {});
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      last = new CairnError('UNREACHABLE', `cannot reach ${url}: ${causeText(e)}`, {
        cause: e,
        hint: 'check the mirror URL in stack.toml and the network (a proxy?)',
      });
      await pause(attempt);
      continue;
    }
    if (res.ok) return res;
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404 || res.status === 410) {
      throw new CairnError('NOT_FOUND', `${url} not found (HTTP ${res.status})`, {
        hint: 'the mirror does not have this file: check the suite, architecture and mirror URL, or refresh stack.lock with --update',
      });
    }
    last = new CairnError('UNREACHABLE', `GET ${url} failed: HTTP ${res.status} ${res.statusText}`, { hint: 'the mirror is failing; try again later or use another mirror' });
    if (res.status < 500) throw last;
    await pause(attempt);
  }
  throw last!;
}

/** GETs `url` into memory. */
export async function httpGetBytes(url: string, opts: HttpOptions): Promise<Buffer> {
  const res = await httpGet(url, opts);
  try {
    return Buffer.from(await res.arrayBuffer());
  } catch (e) {
    throw new CairnError('UNREACHABLE', `download of ${url} broke off: ${causeText(e)}`, { cause: e, hint: 'try again' });
  }
}

/** GETs `url` as a Node stream. */
export async function httpGetStream(url: string, opts: HttpOptions): Promise<Readable> {
  const res = await httpGet(url, opts);
  if (!res.body) return Readable.from([]);
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  // A connection dropped mid-body surfaces as a foreign error: name the URL.
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) yield chunk as Buffer;
    } catch (e) {
      throw new CairnError('UNREACHABLE', `download of ${url} broke off: ${causeText(e)}`, { cause: e, hint: 'try again' });
    }
  }
  return Readable.from(guarded(), { objectMode: false });
}

/** undici hides the useful reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function causeText(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  const code = (cause as { code?: string } | undefined)?.code;
  return code ? `${messageOf(e)} (${code})` : cause ? `${messageOf(e)}: ${messageOf(cause)}` : messageOf(e);
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200 * attempt));
}
