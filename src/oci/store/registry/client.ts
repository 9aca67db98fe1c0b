/**
 * The registry client: HTTP exchanges (http.ts) with authentication (auth.ts) and bounded retries (retry.ts).
 * `send` returns the response when its status is one the caller expects and throws a typed RegistryError
 * otherwise; a 401 triggers one re-authentication and re-send.
 */
import { Readable } from 'node:stream';
import type { CredentialSource } from '../../auth/credentials.js';
import { parseChallenges } from '../../auth/challenge.js';
import type { ErrorCode } from '../../errors.js';
import type { TransferOptions } from '../store.js';
import { Authenticator } from './auth.js';
import { httpError, networkError, RegistryError } from './errors.js';
import { HttpClient, type HttpResponse } from './http.js';
import { type RetryPolicy, withRetry } from './retry.js';

export interface RegistryClientOptions {
  /** Registry host as the user wrote it (`docker.io`, `127.0.0.1:5000`). */
  host: string;
  /** Host the API is served on (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
  insecure: boolean;
  caCerts: string[];
  caFiles: string[];
  userAgent: string;
  timeoutMs: number;
  retry: RetryPolicy;
  credentials: CredentialSource | undefined;
}

export interface SendRequest {
  method: string;
  /** A path on the registry (`/v2/…`) or an absolute URL (an upload `Location`). */
  url: string;
  headers?: Record<string, string>;
  /** The body, or a function opening it (called again when the request is re-sent). */
  body?: Buffer | (() => Promise<Readable>);
  /** Token scopes the request needs, e.g. `repository:a/b:pull,push`. */
  scopes: string[];
  /** Statuses that mean success. */
  ok: number[];
  /** What is attempted, for messages. */
  what: string;
  /** Error code for a 404. */
  notFound?: ErrorCode;
  /** Error code for a manifest refused for a missing reference. */
  referenceMissing?: ErrorCode;
  /** false: a single attempt; the caller retries at a higher level (uploads). */
  retry?: boolean;
}

export class RegistryClient {
  readonly base: URL;
  readonly retry: RetryPolicy;
  private readonly http: HttpClient;
  private readonly auth: Authenticator;

  constructor(readonly opts: RegistryClientOptions) {
    this.base = new URL(`${opts.insecure ? 'http' : 'https'}://${opts.apiHost}`);
    this.retry = opts.retry;
    this.http = new HttpClient({ host: opts.host, insecure: opts.insecure, caCerts: opts.caCerts, caFiles: opts.caFiles, userAgent: opts.userAgent, timeoutMs: opts.timeoutMs });
    this.auth = new Authenticator({ host: opts.host, base: this.base, http: this.http, credentials: opts.credentials });
  }

  /** Pings the registry now (see Store.prepare). */
  prepare(opts: TransferOptions): void {
    this.auth.prepare(opts);
  }

  send(req: SendRequest, opts: TransferOptions): Promise<HttpResponse> {
    const once = (): Promise<HttpResponse> => this.sendOnce(req, opts);
    return req.retry === false ? once() : withRetry(this.retry, req.what, opts, once);
  }

  private async sendOnce(req: SendRequest, opts: TransferOptions): Promise<HttpResponse> {
    const url = new URL(req.url, this.base);
    for (let reauthenticated = false; ; reauthenticated = true) {
      const authorization = await this.auth.authorization(req.scopes, opts);
      const body = typeof req.body === 'function' ? await req.body() : req.body;
      const headers = { ...req.headers, ...(authorization ? { authorization } : {}) };
      let res: HttpResponse;
      try {
        res = await this.http.exchange({ method: req.method, url, headers, body, what: req.what, signal: opts.signal });
      } catch (e) {
        // The body failing (a source error, DIGEST_MISMATCH) is the cause, not the connection it broke.
        throw body instanceof Readable && body.errored ? body.errored : e;
      } finally {
        if (body instanceof Readable && !body.readableEnded) body.destroy();
      }
      if (req.ok.includes(res.status)) return res;
      const text = (await this.readBody(res, 64 * 1024, req.what)).toString('utf8');
      if (res.status === 401) {
        const challenges = parseChallenges(res.headers['www-authenticate']);
        const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges[0];
        if (!reauthenticated) {
          this.auth.reset(req.scopes, challenge, authorization);
          continue;
        }
        throw await this.auth.unauthorizedError(req.what, challenge, req.scopes);
      }
      throw httpError(res.status, res.headers, text, { what: req.what, host: this.opts.host, notFound: req.notFound, referenceMissing: req.referenceMissing });
    }
  }

  /** `send`, then the whole (small) body, retrying both together. */
  async fetchBytes(req: SendRequest, limit: number, opts: TransferOptions): Promise<{ res: HttpResponse; bytes: Buffer }> {
    return withRetry(this.retry, req.what, opts, async () => {
      const res = await this.sendOnce(req, opts);
      return { res, bytes: await this.readBody(res, limit, req.what) };
    });
  }

  /** Reads a whole body; more than `limit` bytes is an error. */
  async readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) {
          res.body.destroy();
          throw new RegistryError('REGISTRY_ERROR', `${what}: the response is larger than ${limit} bytes`, {
            hint: 'manifests and indexes are small: the registry is misbehaving or the image is hostile',
          });
        }
        chunks.push(chunk);
      }
    } catch (e) {
      throw this.networkError(e, what);
    }
    return Buffer.concat(chunks);
  }

  /** Maps an error raised while streaming a body (reset, timeout) like one raised by the exchange. */
  networkError(e: unknown, what: string): unknown {
    return networkError(e, { what, host: this.opts.host, insecure: this.opts.insecure });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
