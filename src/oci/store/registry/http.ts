/**
 * One HTTP exchange with a registry over undici: TLS with optional extra CAs, headers/body timeouts that cut
 * a stalled connection, redirects followed for GET/HEAD (blob downloads are often redirected to object
 * storage; the Authorization header is dropped when the redirect leaves the origin). Network failures become
 * RegistryErrors (see errors.ts); HTTP statuses are returned, not thrown.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { networkError } from './errors.js';

export interface HttpOptions {
  /** Registry host as the user wrote it, for messages. */
  host: string;
  insecure: boolean;
  caCerts: string[];
  userAgent: string;
  /** Longest wait for response headers, and longest silence while a body streams. */
  timeoutMs: number;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** For messages, e.g. `GET blob sha256:…`. */
  what: string;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable & { text(): Promise<string>; dump(): Promise<void> };
  /** The URL that answered, after redirects. */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export class HttpClient {
  private readonly agent: Agent;

  constructor(readonly opts: HttpOptions) {
    this.agent = new Agent({
      connect: opts.caCerts.length > 0 ? { ca: [...rootCertificates, ...opts.caCerts] } : {},
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  }

  async exchange(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    const headers = { 'user-agent': this.opts.userAgent, ...req.headers };
    for (let hop = 0; ; hop++) {
      let res;
      try {
        res = await this.agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: req.body,
          signal: req.signal,
        });
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason ?? e;
        throw networkError(e, { what: req.what, host: this.opts.host, insecure: this.opts.insecure });
      }
      const location = res.headers.location;
      const redirectable = req.method === 'GET' || req.method === 'HEAD';
      if (!redirectable || !REDIRECTS.has(res.statusCode) || typeof location !== 'string' || hop >= MAX_REDIRECTS) {
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      }
      await res.body.dump();
      const next = new URL(location, url);
      if (next.origin !== url.origin) delete (headers as Record<string, string>).authorization;
      url = next;
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
