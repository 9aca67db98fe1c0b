/**
 * GET as a WHATWG `fetch`, over node:http/https, trusting what cairn's registry client trusts (tls-trust.ts:
 * NODE_EXTRA_CA_CERTS, which cairn loads itself). Node.js 20's global fetch cannot be given CA certificates.
 * Used for the downloads outside registries: Debian's mirrors and the builder's Node.js runtime.
 *
 * Redirects are followed (up to 5); the body is not decoded (no Accept-Encoding is sent); a 204 or 304 has no
 * body. Network failures reject, as fetch's do; statuses are returned.
 */
import type { Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { extraCaFiles, trustContext } from '../oci/tls-trust.js';

export type TrustingFetch = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** Each fetch has its own connections (keep-alive), so a socket is never shared with another trust. */
export function trustingFetch(env: Record<string, string | undefined>): TrustingFetch {
  let agents: Promise<Agents> | undefined;
  const caFiles = extraCaFiles(env);
  return async (url, init = {}) => {
    const { http, https } = await (agents ??= makeAgents(caFiles));
    let target = new URL(url);
    for (let hop = 0; ; hop++) {
      const res = await get(target, target.protocol === 'https:' ? https : http, init.signal);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && typeof location === 'string' && hop < MAX_REDIRECTS) {
        res.resume();
        target = new URL(location, target);
        continue;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
      }
      const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      if (!body) res.resume();
      return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
    }
  };
}

interface Transport {
  agent: HttpAgent;
  request: typeof httpRequest;
}

interface Agents {
  http: Transport;
  https: Transport;
}

async function makeAgents(caFiles: string[]): Promise<Agents> {
  const [http, https, secureContext] = await Promise.all([import('node:http'), import('node:https'), trustContext([], caFiles)]);
  return {
    http: { agent: new http.Agent({ keepAlive: true }), request: http.request },
    https: { agent: new https.Agent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) }), request: https.request },
  };
}

function get(url: URL, { agent, request }: Transport, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent, ...(signal ? { signal } : {}) });
    req.once('error', reject);
    req.once('response', (res) => {
      req.removeListener('error', reject);
      req.on('error', (e) => res.destroy(e));
      resolve(res);
    });
    req.end();
  });
}
