/**
 * One HTTP exchange with a registry over Node's own http/https (built into the runtime, so a cairn command
 * starts without loading an HTTP library): keep-alive connections, TLS with optional extra CAs, a timeout
 * that cuts a stalled connection (no headers, or a silent body, for `timeoutMs`), redirects followed for
 * GET/HEAD (blob downloads are often redirected to object storage; the Authorization header is dropped when
 * the redirect leaves the origin). Network failures become RegistryErrors (see errors.ts); HTTP statuses are
 * returned, not thrown.
 */
import { Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { trustContext } from '../../tls-trust.js';
import { networkError } from './errors.js';

export interface HttpOptions {
  /** Registry host as the user wrote it, for messages. */
  host: string;
  insecure: boolean;
  /** Extra CAs (PEM text), and files of them read at the first TLS connection (tls-trust.ts). */
  caCerts: string[];
  caFiles: string[];
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

export type ResponseBody = Readable & { text(): Promise<string>; dump(): Promise<void> };

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
  /** The URL that answered, after redirects. */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

interface TlsTransport {
  agent: HttpsAgent;
  request: typeof httpsRequest;
}

export class HttpClient {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  /** node:https and node:tls, loaded on the first HTTPS request (a plain-HTTP registry never needs them). */
  private tls: Promise<TlsTransport> | undefined;

  constructor(readonly opts: HttpOptions) {}

  private tlsTransport(): Promise<TlsTransport> {
    return (this.tls ??= (async () => {
      const [https, secureContext] = await Promise.all([import('node:https'), trustContext(this.opts.caCerts, this.opts.caFiles)]);
      return { agent: new https.Agent({ keepAlive: true, maxSockets: 16, ...(secureContext ? { secureContext } : {}) }), request: https.request };
    })());
  }

  async exchange(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, ...req.headers };
    for (let hop = 0; ; hop++) {
      let res: IncomingMessage;
      try {
        res = await this.send(url, req, headers);
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason ?? e;
        throw networkError(e, { what: req.what, host: this.opts.host, insecure: this.opts.insecure });
      }
      const location = res.headers.location;
      const redirectable = req.method === 'GET' || req.method === 'HEAD';
      const status = res.statusCode ?? 0;
      if (!redirectable || !REDIRECTS.has(status) || typeof location !== 'string' || hop >= MAX_REDIRECTS) {
        return { status, headers: res.headers, body: withHelpers(res), url };
      }
      res.resume();
      const next = new URL(location, url);
      if (next.origin !== url.origin) delete headers.authorization;
      url = next;
    }
  }

  private async send(url: URL, req: HttpRequest, headers: Record<string, string>): Promise<IncomingMessage> {
    const tls = url.protocol === 'https:' ? await this.tlsTransport() : undefined;
    return new Promise((resolve, reject) => {
      const r = (tls ? tls.request : httpRequest)(url, {
        method: req.method,
        headers,
        agent: tls ? tls.agent : this.http,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      r.setTimeout(this.opts.timeoutMs, () => r.destroy(Object.assign(new Error(`no data for ${this.opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      r.once('error', reject);
      r.once('response', (res) => {
        // The socket timeout keeps guarding the body; a timeout then errors the body stream.
        r.removeListener('error', reject);
        r.on('error', (e) => res.destroy(e));
        resolve(res);
      });
      const body = req.body;
      if (body === undefined) r.end();
      else if (Buffer.isBuffer(body)) r.end(body);
      else {
        body.once('error', (e) => r.destroy(e));
        body.pipe(r);
      }
    });
  }

  async close(): Promise<void> {
    this.http.destroy();
    (await this.tls?.catch(() => undefined))?.agent.destroy();
  }
}

function withHelpers(res: IncomingMessage): ResponseBody {
  const body = res as IncomingMessage & Partial<ResponseBody>;
  body.text = async () => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  body.dump = async () => {
    if (res.readableEnded) return;
    res.resume();
    await new Promise<void>((resolve) => {
      res.once('end', resolve);
      res.once('close', resolve);
      res.once('error', () => resolve());
    });
  };
  return body as ResponseBody;
}
