/**
 * The deterministic layer writer: sources (directory trees, explicit entries) → tar → gzip in one
 * streaming pass, computing the diffID (sha256 of the tar), the digest and size (of the gzip) on the way
 * (OCI image-spec config.md "rootfs.diff_ids", descriptor.md). The same inputs give the same bytes on
 * every machine, whatever the files' mtimes, owners, umask or creation order:
 *
 * - entries sorted by path component by component (`tar --sort=name` order), parents first and present;
 * - mtime 1980-01-01T00:00:01Z (as the CNB lifecycle writes), or `mtime`, or min(file mtime, `clampMtime`);
 * - uid/gid from the caller (default 0/0), uname/gname empty;
 * - modes: directories 0755, files 0755 when any execute bit is set else 0644, symlinks 0777
 *   (setuid, setgid and sticky bits are never written);
 * - ustar headers, PAX records only for names/link names over 100 bytes, sizes over 8 GiB and big ids;
 * - a file seen twice under one (dev, inode) is written once and linked to (hardlink entry) after;
 * - sockets, FIFOs and devices are skipped (reported through `onSkip`);
 * - gzip from Node's zlib (level 1 by default) with a header normalised by `NormalizeGzipHeader`.
 *
 * Memory stays bounded: the plan holds paths and metadata only; file contents stream through 1 MiB
 * batch buffers, at most a few of them queued for zlib; backpressure is respected.
 */
import { closeSync, constants as fsc, fstatSync, openSync, read, readSync, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { DigestingStream, hashToDigest, type Digest } from '../digest.js';
import { CairnError, messageOf } from '../errors.js';
import { writeThroughAtomic } from '../atomic-file.js';
import { NormalizeGzipHeader } from './gzip-header.js';
import { ioError, planLayer, sourceOf, type LayerSource, type PlanOptions, type PlannedEntry } from './layer-plan.js';
import { paddingFor, TypeFlag } from './tar-header.js';
import { BATCH, TarOut } from './tar-out.js';

export type { LayerSource, TreeEntryType } from './layer-plan.js';

/** The CNB lifecycle's fixed layer mtime. */
export const DEFAULT_LAYER_MTIME = new Date('1980-01-01T00:00:01Z');

export interface LayerWriterOptions {
  /** Owner of every entry unless a source says otherwise (default 0/0). */
  uid?: number;
  gid?: number;
  /** Fixed mtime of every entry (default DEFAULT_LAYER_MTIME). Exclusive with `clampMtime`. */
  mtime?: Date;
  /** Keep on-disk mtimes but no later than this (SOURCE_DATE_EPOCH style); entries without one get it. */
  clampMtime?: Date;
  /** gzip level 0–9 (default 1, best speed). */
  level?: number;
  /** Called for each skipped socket, FIFO or device node. */
  onSkip?: PlanOptions['onSkip'];
}

export interface LayerWriteResult {
  /** sha256 of the gzip blob. */
  digest: Digest;
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** Size of the gzip blob in bytes. */
  size: number;
  /** Size of the uncompressed tar in bytes. */
  tarSize: number;
}

const SMALL = 256 * 1024; // files up to this size are read synchronously

/**
 * Writes a gzip layer from `sources` to `dest`: a file path (written atomically: temp file, fsync,
 * rename) or a Writable (ended when the layer is complete).
 */
export async function writeLayer(
  sources: readonly LayerSource[],
  dest: string | Writable,
  options: LayerWriterOptions = {},
): Promise<LayerWriteResult> {
  const { plan, mtimeOf, level } = await prepare(sources, options);
  const run = (out: Writable) => compress(plan, out, level, mtimeOf);
  return typeof dest === 'string' ? writeThroughAtomic(dest, run) : run(dest);
}

/**
 * The same layer as an uncompressed tar: written to `dest` (atomically) when given, else only hashed. Gives
 * the diffID `writeLayer` would give, without compressing — what a cache keeps, and a cheap check of whether
 * a layer changed. Not fsynced (an 87 MB node_modules tar spent a third of its time there): a cache checks
 * every layer it reads against its diffID, so one cut short by a power loss is a miss, not corruption.
 */
export async function writeLayerTar(sources: readonly LayerSource[], dest: string | undefined, options: LayerWriterOptions = {}): Promise<{ diffID: Digest; tarSize: number }> {
  const { plan, mtimeOf } = await prepare(sources, options);
  const run = async (out: Writable) => {
    const tar = new TarOut(out);
    await writeEntries(plan, tar, mtimeOf);
    await tar.finish();
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    return { diffID: hashToDigest(tar.hash), tarSize: tar.size };
  };
  if (dest !== undefined) return writeThroughAtomic(dest, run, 0o644, false);
  return run(new Writable({ write: (_chunk, _enc, done) => done() }));
}

async function prepare(sources: readonly LayerSource[], options: LayerWriterOptions) {
  if (options.mtime && options.clampMtime) {
    throw new CairnError('INVALID_ARGUMENT', 'layer writer: mtime and clampMtime are exclusive', { hint: 'pass one of them' });
  }
  const level = options.level ?? 1;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new CairnError('INVALID_ARGUMENT', `invalid gzip level ${level}`, { hint: 'use a level from 0 to 9' });
  }
  const clamp = options.clampMtime ? toSeconds(options.clampMtime) : undefined;
  const fixed = toSeconds(options.mtime ?? DEFAULT_LAYER_MTIME);
  const mtimeOf = (m: number | undefined): number => (clamp === undefined ? fixed : Math.max(0, Math.min(m ?? clamp, clamp)));
  const plan = await planLayer(sources, {
    uid: options.uid ?? 0,
    gid: options.gid ?? 0,
    wantMtimes: clamp !== undefined,
    ...(options.onSkip ? { onSkip: options.onSkip } : {}),
  });
  return { plan, mtimeOf, level };
}

async function compress(plan: PlannedEntry[], dest: Writable, level: number, mtimeOf: (m: number | undefined) => number): Promise<LayerWriteResult> {
  const gzip = createGzip({ level, chunkSize: 128 * 1024, writableHighWaterMark: 4 * BATCH } as ZlibOptions);
  const digesting = new DigestingStream();
  const piped = pipeline(gzip, new NormalizeGzipHeader(), digesting, dest);
  const failure = piped.then(() => undefined, (e: unknown) => e);
  const tar = new TarOut(gzip);
  try {
    await writeEntries(plan, tar, mtimeOf);
    await tar.finish();
    gzip.end();
    await piped;
  } catch (e) {
    gzip.destroy(e as Error);
    const cause = (await failure) ?? e;
    if (cause instanceof CairnError) throw cause;
    throw new CairnError('IO', `cannot write layer: ${messageOf(cause)}`, { cause, hint: 'check the destination and free disk space' });
  }
  return { digest: digesting.digest(), diffID: hashToDigest(tar.hash), size: digesting.size, tarSize: tar.size };
}

interface LinkTarget {
  path: string;
  uid: number;
  gid: number;
  mode: number;
  mtime: number;
}

async function writeEntries(plan: PlannedEntry[], out: TarOut, mtimeOf: (m: number | undefined) => number): Promise<void> {
  const links = new Map<string, LinkTarget>();
  for (const e of plan) {
    const base = { uid: e.uid, gid: e.gid, mtime: mtimeOf(e.mtime) };
    if (e.kind === 'dir') {
      await out.header({ ...base, name: `${e.path}/`, typeflag: TypeFlag.Dir, mode: 0o755, size: 0 });
    } else if (e.kind === 'symlink') {
      await out.header({ ...base, name: e.path, typeflag: TypeFlag.Symlink, mode: 0o777, size: 0, linkname: e.target! });
    } else if (e.data !== undefined) {
      await out.header({ ...base, name: e.path, typeflag: TypeFlag.File, mode: e.executable ? 0o755 : 0o644, size: e.data.length });
      await out.put(e.data);
      await out.zeros(paddingFor(e.data.length));
    } else {
      const src = sourceOf(e);
      const { fd, st } = openFile(e, src);
      try {
        const mode = st.mode & 0o111 ? 0o755 : 0o644;
        const mtime = mtimeOf(Math.floor(st.mtimeMs / 1000));
        const meta = { uid: e.uid, gid: e.gid, mode, mtime };
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = links.get(key);
          if (first && first.uid === meta.uid && first.gid === meta.gid && first.mode === mode && first.mtime === mtime) {
            await out.header({ ...meta, name: e.path, typeflag: TypeFlag.Hardlink, size: 0, linkname: first.path });
            continue;
          }
          if (!first) links.set(key, { path: e.path, ...meta });
        }
        await out.header({ ...meta, name: e.path, typeflag: TypeFlag.File, size: st.size });
        await copyContent(fd, st.size, src, out);
        await out.zeros(paddingFor(st.size));
      } finally {
        closeSync(fd);
      }
    }
  }
}

/** Opens a source file without following a final symlink (tree entries) and checks it is a regular file. */
function openFile(e: PlannedEntry, src: string): { fd: number; st: Stats } {
  let fd: number;
  try {
    fd = openSync(src, fsc.O_RDONLY | fsc.O_NONBLOCK | (e.tree ? fsc.O_NOFOLLOW : 0));
  } catch (err) {
    throw ioError(`cannot open ${src} for layer entry "${e.path}"`, err);
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return { fd, st };
    throw new CairnError('IO', `${src} (layer entry "${e.path}") is not a regular file`, {
      hint: 'the source changed while the layer was written, or names a special file',
    });
  } catch (err) {
    closeSync(fd);
    throw err instanceof CairnError ? err : ioError(`cannot read ${src}`, err);
  }
}

/**
 * Reads `size` bytes of a file straight into the tar batch buffer. Files up to SMALL are read with
 * synchronous calls: a page-cached read costs microseconds, less than a round trip through the libuv
 * thread pool, which stays free for zlib. Larger files are read asynchronously, one batch at a time.
 */
async function copyContent(fd: number, size: number, src: string, out: TarOut): Promise<void> {
  const sync = size <= SMALL;
  let pos = 0;
  while (pos < size) {
    const [buf, off, free] = out.region();
    const len = Math.min(free, size - pos);
    let n: number;
    try {
      n = sync ? readSync(fd, buf, off, len, pos) : await readAsync(fd, buf, off, len, pos);
    } catch (err) {
      throw ioError(`cannot read ${src}`, err);
    }
    if (n === 0) throw shrank(src);
    pos += n;
    await out.advance(n);
  }
}

const readAsync = promisify((fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (err: Error | null, n: number) => void) =>
  read(fd, buf, off, len, pos, (err, n) => cb(err, n)));

function shrank(src: string): CairnError {
  return new CairnError('IO', `${src} became shorter while the layer was written`, {
    hint: 'do not modify the source files while a layer is being written',
  });
}

function toSeconds(d: Date): number {
  const s = Math.floor(d.getTime() / 1000);
  if (!Number.isSafeInteger(s) || s < 0) {
    throw new CairnError('INVALID_ARGUMENT', `invalid layer mtime ${String(d)}`, { hint: 'use a date after 1970' });
  }
  return s;
}
