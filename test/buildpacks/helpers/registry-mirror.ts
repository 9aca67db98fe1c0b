/**
 * A caching mirror of the npm registry on 127.0.0.1, for the buildpack integration tests: the buildpacks
 * point at it (BP_NODE_REGISTRY, npm_config_registry), so a test file downloads each Node.js tarball once,
 * and every request a build makes is recorded (path, bytes, served from the mirror's cache or not).
 * JSON answers have the upstream's URL rewritten to the mirror's, as registry mirrors do. `offline()` makes
 * the mirror refuse new fetches (502), to prove a rebuild needs nothing new.
 */
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MirrorRecord {
  path: string;
  status: number;
  bytes: number;
  cached: boolean;
}

export class RegistryMirror {
  readonly records: MirrorRecord[] = [];
  url = '';
  private server!: Server;
  private readonly cache = new Map<string, { status: number; type: string; body: Buffer }>();
  private readonly inflight = new Map<string, Promise<{ status: number; type: string; body: Buffer }>>();

  private constructor(private readonly upstream: string) {}

  static async start(upstream = 'https://registry.npmjs.org'): Promise<RegistryMirror> {
    const m = new RegistryMirror(upstream.replace(/\/+$/, ''));
    m.server = createServer((req, res) => {
      const path = req.url ?? '/';
      const hit = m.cache.get(path);
      const serve = (e: { status: number; type: string; body: Buffer }, cached: boolean): void => {
        m.records.push({ path, status: e.status, bytes: e.body.length, cached });
        res.writeHead(e.status, { 'content-type': e.type, 'content-length': e.body.length });
        res.end(e.body);
      };
      if (hit) return serve(hit, true);
      let p = m.inflight.get(path);
      if (!p) {
        p = m.fetch(path);
        m.inflight.set(path, p);
      }
      p.then((e) => {
        m.inflight.delete(path);
        if (e.status === 200) m.cache.set(path, e);
        serve(e, false);
      }, (err: Error) => {
        m.inflight.delete(path);
        serve({ status: 502, type: 'text/plain', body: Buffer.from(err.message) }, false);
      });
    });
    await new Promise<void>((resolve) => m.server.listen(0, '127.0.0.1', resolve));
    m.url = `http://127.0.0.1:${(m.server.address() as AddressInfo).port}`;
    return m;
  }

  private offlineMode = false;

  /** Refuses every request not already cached. */
  offline(on = true): void {
    this.offlineMode = on;
  }

  private fetch(path: string): Promise<{ status: number; type: string; body: Buffer }> {
    if (this.offlineMode) return Promise.reject(new Error('the mirror is offline'));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(`${this.upstream}${path}`, { headers: { accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body = Buffer.concat(chunks);
          const type = String(res.headers['content-type'] ?? 'application/octet-stream');
          if (type.includes('json')) body = Buffer.from(body.toString('utf8').replaceAll(`${this.upstream}/`, `${this.url}/`));
          resolve({ status: res.statusCode ?? 502, type, body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Requests since `from` (an index into records) that are tarballs. */
  tarballs(from = 0): MirrorRecord[] {
    return this.records.slice(from).filter((r) => r.path.endsWith('.tgz'));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
