/**
 * A reverse proxy on 127.0.0.1 in front of a plain-HTTP server (host:port) that counts the body bytes of every
 * request and response, to assert what a client really transferred. The Host header is passed through, so a
 * registry builds its `Location`s on the proxy's address and later requests come back through it.
 *
 * `onRequest` may return a fault for a request (answer with a status, or cut the connection before or part-way
 * through forwarding the response body): the base of a fault-injecting proxy.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyRecord {
  method: string;
  path: string;
  status: number;
  requestBytes: number;
  responseBytes: number;
}

export type ProxyFault =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { reset: true }
  | { resetAfterResponseBytes: number };

export interface CountingProxyOptions {
  onRequest?: (req: IncomingMessage) => ProxyFault | undefined;
}

export class CountingProxy {
  readonly records: ProxyRecord[] = [];
  host = '';
  private server!: Server;

  private constructor(private readonly target: string, private readonly opts: CountingProxyOptions) {}

  static async start(target: string, opts: CountingProxyOptions = {}): Promise<CountingProxy> {
    const p = new CountingProxy(target, opts);
    p.server = createServer((req, res) => {
      const record: ProxyRecord = { method: req.method!, path: req.url!, status: 0, requestBytes: 0, responseBytes: 0 };
      p.records.push(record);
      const fault = p.opts.onRequest?.(req);
      if (fault && 'reset' in fault) return void req.socket.destroy();
      if (fault && 'status' in fault) {
        req.resume();
        req.on('end', () => {
          record.status = fault.status;
          res.writeHead(fault.status, fault.headers);
          res.end(fault.body ?? '');
        });
        return;
      }
      const cutAfter = fault && 'resetAfterResponseBytes' in fault ? fault.resetAfterResponseBytes : undefined;
      const [hostname, port] = p.target.split(':');
      const upstream = request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
        record.status = up.statusCode!;
        res.writeHead(up.statusCode!, up.headers);
        up.on('data', (chunk: Buffer) => {
          if (cutAfter !== undefined && record.responseBytes + chunk.length > cutAfter) {
            res.write(chunk.subarray(0, cutAfter - record.responseBytes), () => res.socket?.destroy());
            record.responseBytes = cutAfter;
            up.destroy();
            return;
          }
          record.responseBytes += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => res.end());
        up.on('error', () => res.socket?.destroy());
      });
      upstream.on('error', () => res.socket?.destroy());
      req.on('data', (chunk: Buffer) => (record.requestBytes += chunk.length));
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.host = `127.0.0.1:${(p.server.address() as AddressInfo).port}`;
    return p;
  }

  /** Totals over the records matching a method and path pattern. */
  bytes(method?: string, path?: RegExp): { requests: number; requestBytes: number; responseBytes: number } {
    const hits = this.records.filter((r) => (!method || r.method === method) && (!path || path.test(r.path)));
    return {
      requests: hits.length,
      requestBytes: hits.reduce((n, r) => n + r.requestBytes, 0),
      responseBytes: hits.reduce((n, r) => n + r.responseBytes, 0),
    };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
