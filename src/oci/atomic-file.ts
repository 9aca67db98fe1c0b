/**
 * Atomic file writes: content goes to a temp file in the destination's folder, is fsync'd, renamed over
 * the destination and the folder is fsync'd. Readers see the old file or the new one, never a part; a
 * crash (even kill -9 or power loss) leaves at most a stray temp file, whose name starts with TEMP_PREFIX.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CairnError, messageOf } from './errors.js';

/** Temp files start with this; stores ignore them and garbage collection removes old ones. */
export const TEMP_PREFIX = '.tmp-';

/** A fresh temp path in `dir` (the name mentions `forName` to help a human reading a crashed folder). */
function tempPath(dir: string, forName: string): string {
  return join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${forName}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** fsyncs a folder so that a rename inside it is durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to `path` atomically (temp + fsync + rename + fsync folder). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  await streamToFileAtomic(path, [typeof data === 'string' ? Buffer.from(data) : data], mode);
}

/**
 * Streams `source` (through `transforms`, e.g. a VerifyingStream) into `path` atomically. When any stream
 * fails, the temp file is removed and nothing is left behind.
 */
export async function streamToFileAtomic(
  path: string,
  source: Readable | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  mode = 0o644,
  transforms: NodeJS.ReadWriteStream[] = [],
  signal?: AbortSignal,
): Promise<void> {
  const dir = dirname(path);
  const tmp = tempPath(dir, basename(path));
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', mode);
    const sink = fileSink(fh);
    await (pipeline as (...args: unknown[]) => Promise<void>)(source, ...transforms, sink, ...(signal ? [{ signal }] : []));
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
    await syncDir(dir);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    if (e instanceof CairnError) throw e;
    if (isAbort(e)) throw e;
    throw new CairnError('IO', `cannot write ${path}: ${messageOf(e)}`, { cause: e, hint: 'check free space and permissions of the folder' });
  }
}

/**
 * Calls `write` with a stream into a temp file beside `path`; `write` must end the stream (e.g. through
 * `pipeline`). Once its promise resolves, the file is fsync'd, renamed to `path` and the folder fsync'd.
 * On failure the temp file is removed. `durable: false` skips both fsyncs, for files whose reader checks
 * what it reads (a power loss may then leave a short file under `path`; a kill cannot).
 */
export async function writeThroughAtomic<T>(path: string, write: (out: Writable) => Promise<T>, mode = 0o644, durable = true): Promise<T> {
  const dir = dirname(path);
  const tmp = tempPath(dir, basename(path));
  let renamed = false;
  // `flush: true` fsyncs the descriptor before the stream closes it.
  const out: WriteStream = createWriteStream(tmp, { flags: 'wx', mode, flush: durable, highWaterMark: 4 << 20 });
  const closed = new Promise<void>((resolve, reject) => {
    out.once('close', resolve);
    out.once('error', reject);
  });
  closed.catch(() => undefined);
  try {
    const result = await write(out);
    await closed;
    await rename(tmp, path);
    renamed = true;
    if (durable) await syncDir(dir);
    return result;
  } catch (e) {
    out.destroy();
    if (e instanceof CairnError) throw e;
    throw new CairnError('IO', `cannot write ${path}: ${messageOf(e)}`, { cause: e, hint: 'check that the folder exists, is writable and has free space' });
  } finally {
    if (!renamed) {
      await closed.catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || (e as NodeJS.ErrnoException).code === 'ABORT_ERR');
}

/** A Writable into an open file handle that fsyncs before it finishes. */
function fileSink(fh: FileHandle): Writable {
  return new Writable({
    writev(chunks, cb) {
      writeAll(fh, Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => cb(), cb);
    },
    final(cb) {
      fh.sync().then(() => cb(), cb);
    },
  });
}

/** Writes the whole buffer, looping over short writes. */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}
