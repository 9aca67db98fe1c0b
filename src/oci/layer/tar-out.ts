/**
 * The tar byte stream of a layer writer: bytes are gathered in 1 MiB batches, hashed as they go (the
 * diffID), and handed to gzip (or any Writable) with backpressure; buffers are reused once it is done with them. Used by the
 * application layer writer (`tar-writer.ts`) and the base image writer (`src/stack/image/tree-layer.ts`).
 */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { CairnError } from '../errors.js';
import { BLOCK, encodeHeader, type HeaderFields, writeUstarHeader } from './tar-header.js';

export const BATCH = 1 << 20;

export class TarOut {
  readonly hash = createHash('sha256');
  size = 0;
  private buf: Buffer = Buffer.allocUnsafe(BATCH);
  private pos = 0;
  private readonly spare: Buffer[] = [];

  /** `out` receives the tar bytes: gzip for a layer blob, a file or a sink for a plain tar. */
  constructor(private readonly gzip: Writable) {}

  /** A header, encoded in place unless it needs PAX records. Writes are 512-aligned at header time. */
  async header(h: HeaderFields): Promise<void> {
    if (writeUstarHeader(h, this.buf, this.pos)) await this.advance(BLOCK);
    else await this.put(encodeHeader(h));
  }

  async put(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, BATCH - this.pos);
      data.copy(this.buf, this.pos, off, off + n);
      off += n;
      await this.advance(n);
    }
  }

  async zeros(count: number): Promise<void> {
    let left = count;
    while (left > 0) {
      const n = Math.min(left, BATCH - this.pos);
      this.buf.fill(0, this.pos, this.pos + n);
      left -= n;
      await this.advance(n);
    }
  }

  /** Free space to read into directly: [buffer, offset, length]; then call `advance(bytesRead)`. */
  region(): [Buffer, number, number] {
    return [this.buf, this.pos, BATCH - this.pos];
  }

  async advance(n: number): Promise<void> {
    this.pos += n;
    if (this.pos === BATCH) await this.flush();
  }

  /** End-of-archive marker (two zero blocks) and the last batch. */
  async finish(): Promise<void> {
    await this.zeros(1024);
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pos === 0) return;
    const full = this.buf;
    const chunk = full.subarray(0, this.pos);
    // zlib holds the chunk until it is compressed; the buffer is reused only after that.
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(BATCH);
    this.pos = 0;
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.gzip.destroyed) throw new CairnError('IO', 'layer output closed early');
    if (!this.gzip.write(chunk, () => this.spare.push(full))) await drained(this.gzip);
  }
}

function drained(s: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

