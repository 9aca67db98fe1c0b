/**
 * An in-memory registry on node:http (127.0.0.1, random port) speaking the distribution-spec subset cairn uses:
 * ping, blob HEAD/GET (Range), uploads (POST, mount, PATCH with Content-Range, status GET, PUT ?digest=, DELETE),
 * manifests GET/HEAD/PUT/DELETE (by tag and digest), tag list with `n`/`last` pagination and `Link`.
 * Optional Basic or Bearer auth (token endpoint at /token on the same server). For unit tests only.
 *
 * Hooks: `requests` logs every request with bytes in/out; `addFault` makes matching requests fail (a status,
 * a reset before or part-way through a body, a stall). Partial PATCH bodies cut by a reset are kept, as a
 * resumable registry would.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { reset: true }
  | { resetAfterBytes: number }
  | { delayMs: number };

export interface FaultRule {
  method?: string;
  path?: RegExp;
  /** How many matching requests fail; default 1. */
  times?: number;
  fault: Fault;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  authorization: string | undefined;
}

export type FakeAuth =
  | { kind: 'basic'; users: Record<string, string> }
  | {
      kind: 'bearer';
      users: Record<string, string>;
      /** Actions a user (undefined = anonymous) may take on a repository. Default: all for users, none for anonymous. */
      grants?: (user: string | undefined, repository: string) => string[];
      /** expires_in of issued tokens, seconds. Default 300. */
      ttlSeconds?: number;
      /** OAuth2 refresh tokens (identity tokens) → user, accepted by `POST /token` (grant_type=refresh_token). */
      refreshTokens?: Record<string, string>;
    };

export interface FakeRegistryOptions {
  auth?: FakeAuth;
  /** Server-side page size of tag lists (as Docker Hub / GHCR paginate without `n`). */
  tagPageSize?: number;
  /** Answer `DELETE /manifests/<tag>` (distribution-spec 1.1) instead of 400 DIGEST_INVALID as distribution 2.x. */
  tagDelete?: boolean;
  /** Serve blob GETs through a 307 redirect to /_blob/<digest>. */
  redirectBlobs?: boolean;
  /** Advertise OCI-Chunk-Min-Length on upload sessions. */
  chunkMinLength?: number;
}

interface Repo {
  blobs: Set<string>;
  manifests: Map<string, { mediaType: string; bytes: Buffer }>;
  tags: Map<string, string>;
}

const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly repos = new Map<string, Repo>();
  readonly uploads = new Map<string, { repo: string; data: Buffer }>();
  readonly requests: RequestRecord[] = [];
  readonly tokenRequests: Array<{ user: string | undefined; scopes: string[] }> = [];
  private readonly tokens = new Map<string, { user: string | undefined; access: Map<string, Set<string>> }>();
  private faults: FaultRule[] = [];
  private server!: Server;
  host = '';

  constructor(readonly opts: FakeRegistryOptions = {}) {}

  static async start(opts: FakeRegistryOptions = {}): Promise<FakeRegistry> {
    const r = new FakeRegistry(opts);
    r.server = createServer((req, res) => void r.handle(req, res));
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.host = `127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  addFault(rule: FaultRule): void {
    this.faults.push({ times: 1, ...rule });
  }

  /** Invalidates every issued token (as if they expired). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Requests matching a method and path pattern. */
  count(method: string, path?: RegExp): RequestRecord[] {
    return this.requests.filter((r) => r.method === method && (!path || path.test(r.path)));
  }

  repo(name: string): Repo {
    let r = this.repos.get(name);
    if (!r) this.repos.set(name, (r = { blobs: new Set(), manifests: new Map(), tags: new Map() }));
    return r;
  }

  /** Puts content straight into the store (test setup). */
  seedBlob(repo: string, data: Buffer): string {
    const d = sha(data);
    this.blobs.set(d, data);
    this.repo(repo).blobs.add(d);
    return d;
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const rule = this.faults.find((f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)) && f.times! > 0);
    if (!rule) return undefined;
    rule.times!--;
    return rule.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, `http://${this.host}`);
    const record: RequestRecord = { method: req.method!, path: url.pathname + url.search, status: 0, bytesIn: 0, bytesOut: 0, authorization: req.headers.authorization };
    this.requests.push(record);
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    const countOut = (chunk: unknown): void => {
      if (chunk && typeof chunk !== 'function') record.bytesOut += Buffer.byteLength(chunk as Buffer);
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => (countOut(chunk), write(chunk as Buffer, ...(rest as [])))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => (countOut(chunk), end(chunk as Buffer, ...(rest as [])))) as typeof res.end;
    res.on('finish', () => (record.status = res.statusCode));

    const fault = this.takeFault(req.method!, url.pathname);
    if (fault && 'reset' in fault) return void req.socket.destroy();
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault && 'status' in fault) {
      await readBody(req, record);
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      return void res.end(fault.body ?? '');
    }
    const cutAfter = fault && 'resetAfterBytes' in fault ? fault.resetAfterBytes : undefined;
    try {
      await this.route(req, res, url, record, cutAfter);
    } catch (e) {
      if (!res.headersSent) send(res, 500, { errors: [{ code: 'UNKNOWN', message: String(e) }] });
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, record: RequestRecord, cutAfter: number | undefined): Promise<void> {
    const method = req.method!;
    const p = url.pathname;
    if (p === '/token') return this.issueToken(req, res, url);
    if (p.startsWith('/_blob/')) return this.sendBlob(req, res, p.slice('/_blob/'.length), cutAfter);
    if (p === '/v2/' || p === '/v2') {
      if (!this.authorize(req, res, undefined, '')) return;
      return send(res, 200, {});
    }
    const m = /^\/v2\/(.+?)\/(blobs\/uploads\/?(.*)|blobs\/([^/]+)|manifests\/([^/]+)|tags\/list)$/.exec(p);
    if (!m) return send(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'no route' }] });
    const name = m[1]!;
    const action = method === 'GET' || method === 'HEAD' ? 'pull' : method === 'DELETE' ? 'delete' : 'push';
    const from = url.searchParams.get('from');
    if (!this.authorize(req, res, name, action, from && url.searchParams.get('mount') ? from : undefined)) return;

    if (m[2]!.startsWith('blobs/uploads')) return this.upload(req, res, url, name, m[3] ?? '', record, cutAfter);
    if (m[4]) {
      const repo = this.repos.get(name);
      const digest = m[4];
      if (!repo?.blobs.has(digest)) return send(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
      if (this.opts.redirectBlobs && method === 'GET') {
        res.writeHead(307, { location: `/_blob/${digest}` });
        return void res.end();
      }
      return this.sendBlob(req, res, digest, cutAfter);
    }
    if (m[5]) return this.manifest(req, res, name, m[5], record);
    return this.tagList(res, url, name);
  }

  private sendBlob(req: IncomingMessage, res: ServerResponse, digest: string, cutAfter: number | undefined): void {
    const data = this.blobs.get(digest);
    if (!data) return send(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const body = data.subarray(start);
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'docker-content-digest': digest };
    res.writeHead(range ? 206 : 200, range ? { ...headers, 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : headers);
    if (req.method === 'HEAD') return void res.end();
    if (cutAfter !== undefined) {
      res.write(body.subarray(0, cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }

  private async upload(req: IncomingMessage, res: ServerResponse, url: URL, name: string, id: string, record: RequestRecord, cutAfter: number | undefined): Promise<void> {
    const method = req.method!;
    const repo = this.repo(name);
    const location = (uuid: string): string => `/v2/${name}/blobs/uploads/${uuid}`;
    if (method === 'POST' && !id) {
      await readBody(req, record);
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      if (mount && from && this.repos.get(from)?.blobs.has(mount)) {
        repo.blobs.add(mount);
        res.writeHead(201, { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount });
        return void res.end();
      }
      const uuid = randomUUID();
      this.uploads.set(uuid, { repo: name, data: Buffer.alloc(0) });
      const headers: Record<string, string> = { location: location(uuid), range: '0-0', 'docker-upload-uuid': uuid };
      if (this.opts.chunkMinLength) headers['oci-chunk-min-length'] = String(this.opts.chunkMinLength);
      res.writeHead(202, headers);
      return void res.end();
    }
    const session = this.uploads.get(id);
    if (!session || session.repo !== name) {
      await readBody(req, record);
      return send(res, 404, { errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry' }] });
    }
    const rangeHeader = (): string => `0-${Math.max(0, session.data.length - 1)}`;
    if (method === 'GET') {
      res.writeHead(204, { location: location(id), range: rangeHeader() });
      return void res.end();
    }
    if (method === 'DELETE') {
      this.uploads.delete(id);
      res.writeHead(204);
      return void res.end();
    }
    if (method === 'PATCH') {
      const cr = /^(\d+)-(\d+)$/.exec(req.headers['content-range'] ?? '');
      if (cr && Number(cr[1]) !== session.data.length) {
        await readBody(req, record);
        res.writeHead(416, { location: location(id), range: rangeHeader() });
        return void res.end();
      }
      const body = await readBody(req, record, cutAfter, (partial) => (session.data = Buffer.concat([session.data, partial])));
      if (body === undefined) return;
      session.data = Buffer.concat([session.data, body]);
      res.writeHead(202, { location: location(id), range: rangeHeader() });
      return void res.end();
    }
    if (method === 'PUT') {
      const body = await readBody(req, record, cutAfter);
      if (body === undefined) return;
      const data = Buffer.concat([session.data, body]);
      const digest = url.searchParams.get('digest');
      if (!digest || sha(data) !== digest) {
        return send(res, 400, { errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] });
      }
      this.uploads.delete(id);
      this.blobs.set(digest, data);
      repo.blobs.add(digest);
      res.writeHead(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
      return void res.end();
    }
    send(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
  }

  private async manifest(req: IncomingMessage, res: ServerResponse, name: string, ref: string, record: RequestRecord): Promise<void> {
    const method = req.method!;
    const repo = this.repos.get(name);
    const isDigestRef = ref.startsWith('sha256:');
    const unknown = (): void => send(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { name, ref } }] });
    if (method === 'GET' || method === 'HEAD') {
      const digest = isDigestRef ? ref : repo?.tags.get(ref);
      const m = digest ? repo?.manifests.get(digest) : undefined;
      if (!m || !digest) return unknown();
      res.writeHead(200, { 'content-type': m.mediaType, 'content-length': String(m.bytes.length), 'docker-content-digest': digest });
      return void res.end(method === 'HEAD' ? undefined : m.bytes);
    }
    if (method === 'PUT') {
      const bytes = (await readBody(req, record))!;
      const digest = sha(bytes);
      if (isDigestRef && ref !== digest) return send(res, 400, { errors: [{ code: 'DIGEST_INVALID', message: 'manifest digest mismatch' }] });
      const r = this.repo(name);
      let doc: { config?: { digest: string }; layers?: Array<{ digest: string }>; manifests?: Array<{ digest: string }> };
      try {
        doc = JSON.parse(bytes.toString('utf8'));
      } catch {
        return send(res, 400, { errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid' }] });
      }
      const missing = [doc.config, ...(doc.layers ?? [])].filter((d) => d && !r.blobs.has(d.digest));
      const missingManifests = (doc.manifests ?? []).filter((d) => !r.manifests.has(d.digest));
      if (missing.length || missingManifests.length) {
        return send(res, 400, { errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: [...missing, ...missingManifests][0] }] });
      }
      r.manifests.set(digest, { mediaType: (req.headers['content-type'] ?? '').split(';')[0]!, bytes });
      if (!isDigestRef) r.tags.set(ref, digest);
      res.writeHead(201, { location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest });
      return void res.end();
    }
    if (method === 'DELETE') {
      if (!isDigestRef && !this.opts.tagDelete) {
        return send(res, 400, { errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] });
      }
      if (!isDigestRef) {
        if (!repo?.tags.delete(ref)) return unknown();
      } else {
        if (!repo?.manifests.delete(ref)) return unknown();
        for (const [t, d] of repo.tags) if (d === ref) repo.tags.delete(t);
      }
      res.writeHead(202);
      return void res.end();
    }
    send(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
  }

  private tagList(res: ServerResponse, url: URL, name: string): void {
    const repo = this.repos.get(name);
    if (!repo) return send(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name } }] });
    const all = [...repo.tags.keys()].sort();
    const last = url.searchParams.get('last');
    const n = Number(url.searchParams.get('n')) || this.opts.tagPageSize || all.length;
    const rest = last ? all.filter((t) => t > last) : all;
    const page = rest.slice(0, n);
    const headers: Record<string, string> = {};
    if (rest.length > page.length) headers.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1]!)}>; rel="next"`;
    send(res, 200, { name, tags: page }, headers);
  }

  private challenge(res: ServerResponse, scope: string, error?: string): void {
    const auth = this.opts.auth!;
    const header = auth.kind === 'basic'
      ? 'Basic realm="fake"'
      : `Bearer realm="http://${this.host}/token",service="fake-registry"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
    send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': header });
  }

  /** Checks the request's credentials; answers 401 and returns false when they do not allow `action` on `name`. */
  private authorize(req: IncomingMessage, res: ServerResponse, name: string | undefined, action: string, mountFrom?: string): boolean {
    const auth = this.opts.auth;
    if (!auth) return true;
    const header = req.headers.authorization ?? '';
    if (auth.kind === 'basic') {
      const [user, pass] = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString().split(':');
      if (header.startsWith('Basic ') && user !== undefined && auth.users[user] === pass) return true;
      this.challenge(res, '');
      return false;
    }
    const needed: Array<[string, string]> = name ? [[name, action === 'push' ? 'pull,push' : action]] : [];
    if (mountFrom) needed.push([mountFrom, 'pull']);
    const scope = needed.map(([n, a]) => `repository:${n}:${a}`).join(' ');
    const token = this.tokens.get(header.replace(/^Bearer /, ''));
    if (!header.startsWith('Bearer ') || !token) {
      this.challenge(res, scope);
      return false;
    }
    const ok = needed.every(([n, a]) => a.split(',').every((x) => token.access.get(n)?.has(x)));
    if (!ok) this.challenge(res, scope, 'insufficient_scope');
    return ok;
  }

  private async issueToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const auth = this.opts.auth;
    if (auth?.kind !== 'bearer') return send(res, 404, {});
    let user: string | undefined;
    let scopes = url.searchParams.getAll('scope');
    const header = req.headers.authorization;
    if (req.method === 'POST') {
      const form = new URLSearchParams((await readBody(req, { bytesIn: 0 } as RequestRecord))!.toString());
      user = form.get('grant_type') === 'refresh_token' ? auth.refreshTokens?.[form.get('refresh_token') ?? ''] : undefined;
      if (!user) return send(res, 401, { details: 'invalid refresh token' });
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    } else if (header?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      if (u === undefined || auth.users[u] !== p) return send(res, 401, { details: 'bad credentials' });
      user = u;
    }
    this.tokenRequests.push({ user, scopes });
    const grants = auth.grants ?? ((u: string | undefined) => (u ? ['pull', 'push', 'delete'] : []));
    const access = new Map<string, Set<string>>();
    for (const s of scopes) {
      const [type, repo, actions] = s.split(':');
      if (type !== 'repository' || !repo || !actions) continue;
      const allowed = grants(user, repo);
      access.set(repo, new Set(actions.split(',').filter((a) => allowed.includes(a))));
    }
    const token = randomUUID();
    this.tokens.set(token, { user, access });
    send(res, 200, req.method === 'POST' ? { access_token: token, expires_in: auth.ttlSeconds ?? 300 } : { token, expires_in: auth.ttlSeconds ?? 300 });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * Reads a request body. With `cutAfter`, destroys the connection once that many bytes arrived (handing them to
 * `onPartial`) and returns undefined.
 */
function readBody(req: IncomingMessage, record: RequestRecord, cutAfter?: number, onPartial?: (partial: Buffer) => void): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      record.bytesIn += chunk.length;
      if (cutAfter !== undefined && size + chunk.length >= cutAfter) {
        chunks.push(chunk.subarray(0, cutAfter - size));
        done = true;
        onPartial?.(Buffer.concat(chunks));
        req.socket.destroy();
        resolve(undefined);
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => !done && resolve(Buffer.concat(chunks)));
    req.on('error', () => !done && resolve(undefined));
    req.on('close', () => !done && !req.complete && resolve(undefined));
  });
}
