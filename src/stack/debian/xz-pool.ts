/**
 * xz decoding on worker threads. The WebAssembly decoder runs at roughly 40 MB/s of output on one core,
 * and a build image unpacks several hundred MB, so package data members are decoded in parallel while the
 * main thread unpacks the previous ones. `decode` queues work; `close` stops the workers.
 */
import { Worker } from 'node:worker_threads';
import { CairnError } from '../../oci/errors.js';

interface Job {
  id: number;
  data: Uint8Array;
  what: string;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

export class XzPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private closed = false;

  constructor(size: number) {
    const url = new URL('./xz-worker.js', import.meta.url);
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = new Worker(url);
      w.on('message', (msg: { id: number; data?: Uint8Array; error?: string }) => this.done(w, msg));
      w.on('error', (e) => this.fail(w, e));
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Decodes a whole xz buffer. `what` names it in INVALID_ARCHIVE errors. */
  decode(data: Uint8Array, what: string): Promise<Buffer> {
    if (this.closed) return Promise.reject(new CairnError('INTERNAL', 'xz pool used after close'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, data, what, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new CairnError('INTERNAL', `xz pool closed before ${job.what} was decoded`));
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      // Copy: the caller keeps its buffer (it may be a view into a larger .deb).
      const copy = new Uint8Array(job.data);
      w.postMessage({ id: job.id, data: copy }, [copy.buffer]);
    }
  }

  private done(w: Worker, msg: { id: number; data?: Uint8Array; error?: string }): void {
    const job = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    if (job) {
      if (msg.data) job.resolve(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
      else job.reject(new CairnError('INVALID_ARCHIVE', `cannot decompress ${job.what} (xz): ${msg.error}`));
    }
    this.pump();
  }

  private fail(w: Worker, e: Error): void {
    const job = this.running.get(w);
    this.running.delete(w);
    job?.reject(new CairnError('INTERNAL', `xz worker failed on ${job.what}: ${e.message}`, { cause: e }));
  }
}
