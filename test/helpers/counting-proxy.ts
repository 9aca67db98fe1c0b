/**
 * A reverse proxy on 127.0.0.1 in front of a plain-HTTP server (host:port) that counts the body bytes of every
 * request and response, to assert what a client really transferred. The Host header is passed through, so a
 * registry builds its `Location`s on the proxy's address and later requests come back through it.
 *
 * `onRequest` may return a fault for a request, the base of a fault-injecting proxy:
 * - `status`: answer with this status (and headers/body) instead of forwarding;
 * - `reset`: cut the connection before forwarding;
 * - `resetAfterResponseBytes`: cut the connection part-way through the response body;
 * - `resetAfterRequestBytes`: forward only this much of the request body, then cut both connections;
 * - `stall`: forward nothing and never answer (the connection stays open until the client gives up);
 * - `stallAfterResponseBytes`: send the headers and this much of the body, then go silent;
 * - `truncateAfterResponseBytes`: drop Content-Length and end the response cleanly after this many body bytes;
 * - `corruptResponseByte` / `corruptRequestByte`: flip the bits of the body byte at this offset (taken modulo
 *   the body's length when it is known from Content-Length), keeping the length.
 */
import { createServer, type IncomingHttpHeaders, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyRecord {
  method: string;
  path: string;
  status: number;
  requestBytes: number;
  responseBytes: number;
  /** The fault injected into this exchange, if any. */
  fault?: ProxyFault;
}

export type ProxyFault =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { reset: true }
  | { resetAfterResponseBytes: number }
  | { resetAfterRequestBytes: number }
  | { stall: true }
  | { stallAfterResponseBytes: number }
  | { truncateAfterResponseBytes: number }
  | { corruptResponseByte: number }
  | { corruptRequestByte: number };

export interface CountingProxyOptions {
  onRequest?: (req: IncomingMessage) => ProxyFault | undefined;
}

/** Flips byte `at` of the stream if it falls in `chunk`, which starts at stream offset `offset`. */
function corrupt(chunk: Buffer, offset: number, at: number | undefined): Buffer {
  if (at === undefined || at < offset || at >= offset + chunk.length) return chunk;
  const copy = Buffer.from(chunk);
  copy[at - offset] = copy[at - offset]! ^ 0xff;
  return copy;
}

/** The corrupted offset for a body of `headers`' Content-Length (modulo it), or `at` when the length is unknown. */
function corruptOffset(at: number | undefined, headers: IncomingHttpHeaders): number | undefined {
  if (at === undefined) return undefined;
  const length = Number(headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? at % length : at;
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
      if (fault) record.fault = fault;
      if (fault && 'reset' in fault) return void req.socket.destroy();
      if (fault && 'stall' in fault) return void req.resume();
      if (fault && 'status' in fault) {
        req.resume();
        req.on('end', () => {
          record.status = fault.status;
          res.writeHead(fault.status, fault.headers);
          res.end(fault.body ?? '');
        });
        return;
      }
      const f = (fault ?? {}) as Partial<Record<string, number>>;
      const cutAfter = f.resetAfterResponseBytes;
      const stallAfter = f.stallAfterResponseBytes;
      const truncateAfter = f.truncateAfterResponseBytes;
      const cutRequestAfter = f.resetAfterRequestBytes;
      const [hostname, port] = p.target.split(':');
      const upstream = request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
        record.status = up.statusCode!;
        const headers = { ...up.headers };
        if (truncateAfter !== undefined) delete headers['content-length'];
        res.writeHead(up.statusCode!, headers);
        const flipAt = corruptOffset(f.corruptResponseByte, up.headers);
        let silent = false;
        up.on('data', (piece: Buffer) => {
          if (silent) return;
          const chunk = corrupt(piece, record.responseBytes, flipAt);
          const limit = cutAfter ?? stallAfter ?? truncateAfter;
          if (limit !== undefined && record.responseBytes + chunk.length > limit) {
            const head = chunk.subarray(0, Math.max(0, limit - record.responseBytes));
            record.responseBytes = limit;
            silent = true;
            if (cutAfter !== undefined) {
              res.write(head, () => res.socket?.destroy());
              up.destroy();
            } else if (truncateAfter !== undefined) {
              res.end(head);
              up.destroy();
            } else {
              res.write(head); // stall: keep the upstream draining, send nothing more
            }
            return;
          }
          record.responseBytes += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => {
          if (!silent) res.end();
        });
        up.on('error', () => res.socket?.destroy());
      });
      upstream.on('error', () => res.socket?.destroy());
      const flipAt = corruptOffset(f.corruptRequestByte, req.headers);
      req.on('data', (piece: Buffer) => {
        const chunk = corrupt(piece, record.requestBytes, flipAt);
        if (cutRequestAfter !== undefined && record.requestBytes + chunk.length > cutRequestAfter) {
          upstream.write(chunk.subarray(0, Math.max(0, cutRequestAfter - record.requestBytes)), () => upstream.destroy());
          record.requestBytes = cutRequestAfter;
          req.socket.destroy();
          return;
        }
        record.requestBytes += chunk.length;
        if (!upstream.write(chunk)) {
          req.pause();
          upstream.once('drain', () => req.resume());
        }
      });
      req.on('end', () => upstream.end());
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
