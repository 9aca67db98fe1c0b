/**
 * Registry errors. HTTP failures become CairnErrors with the distribution error body
 * (distribution-spec "Error Codes": `{"errors":[{"code","message","detail"}]}`) in the message.
 * `transient` marks what a retry may cure: 429, 500/502/503/504, resets and timeouts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { CairnError, type ErrorCode } from '../../errors.js';

export class RegistryError extends CairnError {
  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; hint?: string; status?: number; transient?: boolean; retryAfterMs?: number } = {},
  ) {
    super(code, message, opts);
    this.status = opts.status;
    this.transient = opts.transient ?? false;
    this.retryAfterMs = opts.retryAfterMs;
  }
  readonly status: number | undefined;
  readonly transient: boolean;
  /** The server's Retry-After, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined;
}

export function isTransient(e: unknown): e is RegistryError {
  return e instanceof RegistryError && e.transient;
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Distribution error codes from a response body, as `CODE: message` strings. */
export function describeErrorBody(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    if (Array.isArray(parsed.errors)) {
      return parsed.errors.map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': ')).filter(Boolean);
    }
  } catch {
    /* not JSON: fall through */
  }
  const text = body.trim().replace(/\s+/g, ' ');
  return text ? [text.length > 200 ? text.slice(0, 200) + '…' : text] : [];
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) in ms: delay-seconds, or an HTTP-date measured against the response's own
 * `Date` header (so no local clock is read, and clock skew does not matter). Undefined when absent or unusable.
 */
export function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['retry-after'];
  if (typeof v !== 'string') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  const now = typeof headers.date === 'string' ? Date.parse(headers.date) : NaN;
  return Number.isNaN(at) || Number.isNaN(now) ? undefined : Math.max(0, at - now);
}

export interface FailureContext {
  /** What was attempted, e.g. `GET manifest 127.0.0.1:5000/a/b:latest`. */
  what: string;
  /** Registry host as the user wrote it. */
  host: string;
  /** Error code for a 404 (MANIFEST_NOT_FOUND, BLOB_NOT_FOUND, NOT_FOUND). */
  notFound?: ErrorCode;
  /** Error code for a manifest PUT refused because something it references is missing (MANIFEST_BLOB_UNKNOWN). */
  referenceMissing?: ErrorCode;
}

/** Distribution error codes (distribution-spec "Error Codes") that map to a more precise cairn code. */
function codeFor(details: string[], ctx: FailureContext): ErrorCode | undefined {
  const first = details[0]?.split(':')[0];
  switch (first) {
    case 'MANIFEST_BLOB_UNKNOWN': return ctx.referenceMissing ?? 'BLOB_NOT_FOUND';
    case 'BLOB_UNKNOWN': return 'BLOB_NOT_FOUND';
    case 'MANIFEST_UNKNOWN': return 'MANIFEST_NOT_FOUND';
    case 'MANIFEST_INVALID': return 'INVALID_MANIFEST';
    case 'DENIED': return 'DENIED';
    default: return undefined;
  }
}

/** The error for a response that did not have an expected status. 401 is handled by the client's auth layer. */
export function httpError(status: number, headers: IncomingHttpHeaders, body: string, ctx: FailureContext): RegistryError {
  const details = describeErrorBody(body);
  const suffix = details.length ? `: ${details.join('; ')}` : '';
  const message = `${ctx.what} failed: HTTP ${status}${suffix}`;
  if (status === 404) {
    return new RegistryError(ctx.notFound ?? 'NOT_FOUND', `${ctx.what}: not found${suffix}`, {
      status, hint: `check the repository, tag or digest on ${ctx.host}; when an index or manifest names it, the image is incomplete there`,
    });
  }
  const precise = status === 400 ? codeFor(details, ctx) : undefined;
  if (precise) return new RegistryError(precise, message, { status, hint: `${ctx.host} refused the request as invalid; the details are above` });
  if (status === 400 && /HTTP request to an HTTPS server/i.test(body)) {
    return new RegistryError('TLS', `${ctx.what} failed: ${ctx.host} serves HTTPS, not plain HTTP`, { status, hint: `drop --insecure-registry ${ctx.host}` });
  }
  if (status === 403) {
    return new RegistryError('DENIED', message, { status, hint: `the account used for ${ctx.host} lacks permission for this; check its access rights` });
  }
  if (status === 405 || details.some((d) => d.startsWith('UNSUPPORTED'))) {
    return new RegistryError('UNSUPPORTED', message, { status, hint: `the registry ${ctx.host} does not support this operation` });
  }
  if (status === 429) {
    const after = retryAfterMs(headers);
    return new RegistryError('TOO_MANY_REQUESTS', message, {
      status, transient: true, retryAfterMs: after,
      hint: after !== undefined ? `the registry asks to wait ${Math.ceil(after / 1000)} s; try again later` : 'the registry rate-limits this client; try again later or log in for a higher limit',
    });
  }
  const transient = RETRY_STATUSES.has(status);
  return new RegistryError('REGISTRY_ERROR', message, {
    status, transient, retryAfterMs: transient ? retryAfterMs(headers) : undefined,
    hint: transient ? `the registry ${ctx.host} is failing or overloaded; try again later` : undefined,
  });
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED', 'INVALID_CA', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** The `code`s along an error's cause chain, outermost first. */
function errorCodes(e: unknown): string[] {
  const codes: string[] = [];
  for (let cur = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/**
 * Maps a failed exchange (no HTTP status) to a RegistryError: TLS problems (not transient), connection
 * refusals, resets and timeouts (transient). CairnErrors raised by our own streams (e.g. DIGEST_MISMATCH from a
 * body being uploaded) and aborts pass through unchanged.
 */
export function networkError(e: unknown, ctx: { what: string; host: string; insecure: boolean }): unknown {
  if (e instanceof CairnError) return e;
  const name = (e as Error | undefined)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return e; // the caller's signal, not the network
  const codes = errorCodes(e);
  const isTls = (c: string): boolean => TLS_CODES.has(c) || c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_');
  const code = codes.find(isTls) ?? codes[0] ?? '';
  const text = (e as Error | undefined)?.message ?? String(e);
  if (/wrong version number|packet length too long|http request/i.test(text) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return new RegistryError('TLS', `${ctx.what} failed: ${ctx.host} does not speak TLS (${code || text})`, {
      cause: e, hint: `the registry serves plain HTTP; pass --insecure-registry ${ctx.host}`,
    });
  }
  if (isTls(code)) {
    return new RegistryError('TLS', `${ctx.what} failed: TLS verification of ${ctx.host} failed (${code}: ${text})`, {
      cause: e, hint: `pass --ca-cert FILE with the CA that signed ${ctx.host}'s certificate, or --insecure-registry ${ctx.host} if it serves plain HTTP`,
    });
  }
  const timeout = code.includes('TIMEOUT') || code === 'ETIMEDOUT';
  return new RegistryError('UNREACHABLE', `${ctx.what} failed: cannot reach registry ${ctx.host} (${timeout ? 'timed out' : code || text})`, {
    cause: e,
    transient: codes.some((c) => TRANSIENT_CODES.has(c)),
    hint: `check that ${ctx.host} is up and reachable from here` + (ctx.insecure ? '' : `; if it serves plain HTTP, pass --insecure-registry ${ctx.host}`),
  });
}
