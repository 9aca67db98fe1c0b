/**
 * A minimal client of the Docker Engine API (also served by `podman system service`), over node:http on a
 * unix socket or plain TCP. Only what the daemon store needs: ping, list, save (`GET /images/get`), load
 * (`POST /images/load`) and untag (`DELETE /images/{name}`). Paths are unversioned, which both engines
 * serve at their own API version.
 */
import { type IncomingMessage, request } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { CairnError, messageOf } from '../../errors.js';

const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export type EngineEndpoint = { socketPath: string } | { host: string; port: number };

/** Parses a DOCKER_HOST value: `unix:///path` or `tcp://host:port` (plain HTTP; TLS is not supported). */
export function parseDockerHost(value: string | undefined): EngineEndpoint {
  const v = value || DEFAULT_DOCKER_HOST;
  if (v.startsWith('unix://')) {
    const socketPath = v.slice('unix://'.length);
    if (socketPath.startsWith('/')) return { socketPath };
  } else if (v.startsWith('tcp://') || v.startsWith('http://')) {
    const u = new URL(v.replace(/^tcp:/, 'http:'));
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 2375) };
  }
  throw new CairnError('INVALID_ARGUMENT', `unsupported DOCKER_HOST "${v}"`, {
    hint: 'cairn talks to an engine at unix:///path/to/docker.sock or tcp://HOST:PORT (without TLS)',
  });
}

export interface EngineResponse {
  status: number;
  body: IncomingMessage;
}

export class EngineClient {
  private readonly endpoint: EngineEndpoint;

  constructor(readonly dockerHost: string | undefined) {
    this.endpoint = parseDockerHost(dockerHost);
  }

  get where(): string {
    return 'socketPath' in this.endpoint ? `unix://${this.endpoint.socketPath}` : `tcp://${this.endpoint.host}:${this.endpoint.port}`;
  }

  /** Sends a request; connection failures become DAEMON_UNAVAILABLE. The caller consumes the body. */
  send(method: string, path: string, opts: { body?: Readable; contentType?: string; signal?: AbortSignal } = {}): Promise<EngineResponse> {
    return new Promise((resolve, reject) => {
      const req = request({
        ...this.endpoint,
        method,
        path,
        headers: { Host: 'docker', ...(opts.contentType ? { 'Content-Type': opts.contentType } : {}), ...(opts.body ? { 'Transfer-Encoding': 'chunked' } : {}) },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, body: res }));
      req.on('error', (e) => reject(this.connectError(e)));
      if (opts.body) pipeline(opts.body, req, (e) => e && req.destroy(e));
      else req.end();
    });
  }

  /** A request whose whole (small) body is returned; a status ≥ 400 is DAEMON_ERROR unless listed in `allow`. */
  async call(method: string, path: string, allow: number[] = []): Promise<{ status: number; text: string }> {
    const res = await this.send(method, path);
    const text = await readText(res.body);
    if (res.status >= 400 && !allow.includes(res.status)) throw this.apiError(method, path, res.status, text);
    return { status: res.status, text };
  }

  async ping(): Promise<void> {
    await this.call('GET', '/_ping');
  }

  apiError(method: string, path: string, status: number, text: string): CairnError {
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    return new CairnError('DAEMON_ERROR', `engine at ${this.where} answered ${status} to ${method} ${path.split('?')[0]}: ${message}`, {
      hint: 'see the engine\'s log for details',
    });
  }

  private connectError(e: unknown): CairnError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ENOTSOCK' || code === 'EHOSTUNREACH') {
      return new CairnError('DAEMON_UNAVAILABLE', `cannot reach a Docker or podman engine at ${this.where} (${code})`, {
        cause: e,
        hint: code === 'EACCES'
          ? 'you lack permission on the socket: join the docker group, or point DOCKER_HOST at a socket you can use'
          : 'start the engine (dockerd, or `podman system service --time=0 unix:///run/podman/podman.sock`) and set DOCKER_HOST to its socket; or write to oci:DIR or docker-archive:FILE instead',
      });
    }
    return new CairnError('DAEMON_ERROR', `talking to the engine at ${this.where} failed: ${messageOf(e)}`, { cause: e, hint: 'see the engine\'s log for details' });
  }
}

export async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
