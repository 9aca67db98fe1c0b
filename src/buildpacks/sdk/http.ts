/**
 * HTTP(S) GETs for downloads, over node:http/https only (buildpacks carry no HTTP library):
 * - proxies from `HTTPS_PROXY`/`https_proxy` (https URLs, tunnelled with CONNECT) and `HTTP_PROXY`/`http_proxy`
 *   (http URLs), skipped for hosts in `NO_PROXY`/`no_proxy` (names, `.suffix`, `*`, optional `:port`);
 * - extra CAs: node reads `NODE_EXTRA_CA_CERTS` itself at start-up, for every TLS connection here;
 * - up to 5 redirects, 3 attempts for network errors and 5xx/429 answers, a 60 s idle timeout.
 * Errors are BuildpackErrors naming the URL and what to check.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Env } from './context.js';
import { BuildpackError, messageOf } from './errors.js';

// node:http, node:https and node:tls load on first use, so a buildpack process that downloads nothing never
// pays for them (about 4 ms of each start). Through require, not import: on Node.js 22 the ESM facade of
// node:http reads every export, and its lazy WebSocket/EventSource getters load undici (~10-15 ms).
const builtin = createRequire(import.meta.url);
const nodeHttp = (): typeof import('node:http') => builtin('node:http') as typeof import('node:http');
const nodeHttps = (): typeof import('node:https') => builtin('node:https') as typeof import('node:https');
const nodeTls = (): typeof import('node:tls') => builtin('node:tls') as typeof import('node:tls');

export interface GetOptions {
  env: Env;
  headers?: Record<string, string>;
  /** What the URL is for, in messages: "the npm registry". */
  what?: string;
  /** Idle timeout per attempt, ms (default 60 000). */
  timeoutMs?: number;
  /** Attempts for retryable failures (default 3). */
  attempts?: number;
}

function envOf(env: Env, ...names: string[]): string | undefined {
  for (const n of names) if (env[n]) return env[n];
  return undefined;
}

/** Whether `url` bypasses the proxy per NO_PROXY. */
export function noProxy(url: URL, env: Env): boolean {
  const list = envOf(env, 'NO_PROXY', 'no_proxy');
  if (!list) return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return list.split(/[\s,]+/).filter(Boolean).some((raw) => {
    if (raw === '*') return true;
    let [h, p] = raw.toLowerCase().split(/:(?=\d+$)/) as [string, string | undefined];
    if (p && p !== port) return false;
    h = h.replace(/^\*?\./, '.');
    return h.startsWith('.') ? host.endsWith(h) || host === h.slice(1) : host === h || host.endsWith(`.${h}`);
  });
}

/** The proxy for `url`, if any. */
export function proxyFor(url: URL, env: Env): URL | undefined {
  if (noProxy(url, env)) return undefined;
  const p = url.protocol === 'https:' ? envOf(env, 'HTTPS_PROXY', 'https_proxy') : envOf(env, 'HTTP_PROXY', 'http_proxy');
  if (!p) return undefined;
  try {
    return new URL(p.includes('://') ? p : `http://${p}`);
  } catch {
    throw new BuildpackError(`the proxy setting ${JSON.stringify(p)} is not a URL`, { hint: 'set HTTPS_PROXY to a URL such as http://proxy.example:3128' });
  }
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(cred).toString('base64')}` };
}

class HttpStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function once(url: URL, opts: GetOptions): Promise<IncomingMessage> {
  const timeout = opts.timeoutMs ?? 60_000;
  const headers = { 'user-agent': 'cairn-buildpacks', ...opts.headers };
  const proxy = proxyFor(url, opts.env);
  return new Promise((resolve, reject) => {
    const fail = (e: Error): void => reject(e);
    let req: ClientRequest;
    const target = { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    if (proxy && url.protocol === 'https:') {
      const connect = nodeHttp().request({ host: proxy.hostname, port: Number(proxy.port || 80), method: 'CONNECT', path: `${target.host}:${target.port}`, headers: { host: `${target.host}:${target.port}`, ...proxyAuth(proxy) }, timeout });
      connect.on('connect', (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          fail(new Error(`the proxy ${proxy.host} refused to connect to ${target.host}:${target.port} (HTTP ${res.statusCode})`));
          return;
        }
        const tls = nodeTls().connect({ socket, servername: target.host });
        req = nodeHttps().request(url, { headers, timeout, createConnection: () => tls } as Parameters<typeof import('node:https').request>[1]);
        req.on('response', resolve).on('error', fail).on('timeout', () => req.destroy(new Error(`no answer for ${timeout / 1000} s`)));
        req.end();
      });
      connect.on('error', (e) => fail(new Error(`cannot reach the proxy ${proxy.host}: ${messageOf(e)}`)));
      connect.on('timeout', () => connect.destroy(new Error(`the proxy ${proxy.host} gave no answer for ${timeout / 1000} s`)));
      connect.end();
      return;
    }
    if (proxy) {
      req = nodeHttp().request({ host: proxy.hostname, port: Number(proxy.port || 80), path: url.href, headers: { ...headers, host: url.host, ...proxyAuth(proxy) }, timeout });
    } else {
      req = (url.protocol === 'https:' ? nodeHttps() : nodeHttp()).request(url, { headers, timeout });
    }
    req.on('response', resolve).on('error', fail).on('timeout', () => req.destroy(new Error(`no answer for ${timeout / 1000} s`)));
    req.end();
  });
}

function retryable(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 429;
  return true;
}

function redactedUrl(url: URL): string {
  const u = new URL(url.href);
  if (u.password) u.password = '***';
  return u.href;
}

/**
 * GET `url`, following redirects; resolves with a 200 response whose body the caller must consume.
 * Non-200 final answers and network failures are BuildpackErrors.
 */
export async function get(url: string, opts: GetOptions): Promise<IncomingMessage> {
  const attempts = opts.attempts ?? 3;
  const what = opts.what ? `${url} (${opts.what})` : url;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      let current = new URL(url);
      for (let hop = 0; ; hop++) {
        const res = await once(current, opts);
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (hop >= 5) throw new HttpStatusError(status, 'too many redirects');
          current = new URL(res.headers.location, current);
          continue;
        }
        if (status !== 200) {
          res.resume();
          throw new HttpStatusError(status, `HTTP ${status}${current.href === new URL(url).href ? '' : ` (after a redirect to ${redactedUrl(current)})`}`);
        }
        return res;
      }
    } catch (e) {
      last = e;
      if (!retryable(e) || attempt === attempts) break;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
  if (last instanceof HttpStatusError) {
    throw new BuildpackError(`${what} answered ${last.message}`, {
      cause: last,
      hint: last.status === 404 ? 'check the name and version, and that the mirror holds them' : last.status === 401 || last.status === 403 ? 'the server needs credentials this build does not have' : 'try again later, or use a mirror',
    });
  }
  const m = messageOf(last);
  const tls = /certificate|self.signed|unable to verify|CERT_/i.test(m);
  throw new BuildpackError(`cannot reach ${what}: ${m}`, {
    cause: last,
    hint: tls
      ? 'the TLS certificate is not trusted: pass the CA certificate into the build (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) instead of turning verification off'
      : 'check the network, the proxy settings (HTTPS_PROXY, NO_PROXY) and the mirror setting; for air-gapped builds point the buildpack at a mirror',
  });
}

/** GET and parse JSON (bounded to `maxBytes`, default 64 MiB). */
export async function getJson(url: string, opts: GetOptions & { maxBytes?: number }): Promise<unknown> {
  const res = await get(url, { ...opts, headers: { accept: 'application/json', ...opts.headers } });
  const max = opts.maxBytes ?? 64 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      res.destroy();
      throw new BuildpackError(`${opts.what ?? url} sent more than ${max} bytes of JSON`, { hint: 'check the mirror URL' });
    }
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new BuildpackError(`${opts.what ?? url} sent invalid JSON: ${messageOf(e)}`, { cause: e, hint: 'check the mirror URL' });
  }
}
