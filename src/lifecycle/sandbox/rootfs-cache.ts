/**
 * The extracted build-image root filesystems the bwrap executor runs over, cached by manifest digest:
 * `<cacheDir>/<digest hex>` is a complete tree once it exists and is never modified afterwards.
 *
 * - Extraction uses the safe extractor (whiteouts applied, nothing written outside the tree), strips
 *   setuid/setgid bits, skips device nodes and FIFOs with a warning, and does not apply owners: every entry
 *   belongs to the user running cairn, i.e. to the sandbox user inside the sandbox (the only mapped id).
 *   Entries the image made unreadable to their owner get u+r (folders u+rx) so that the sandbox user can
 *   read what root could read in a container. The tree is mounted read-only, so ownership grants no write.
 * - The files every sandbox binds from the host (`/etc/resolv.conf`, `/etc/hosts`) are created empty when
 *   the image lacks them and has a real `/etc`, as container engines do: the mounts then cover them where they
 *   are, and the sandbox need not rebuild `/etc` entry by entry (rootfs-view.ts).
 * - Atomic: extraction goes into `<cacheDir>/.tmp-<hex>-<pidns>-<pid>-<random>` and is renamed into place.
 *   When another preparation (another process, or a concurrent call) got there first, this one's copy is
 *   dropped and the existing tree is used.
 * - A temp folder left by a crash is removed by the next preparation in the same PID namespace once its
 *   process is gone (or, for this process's pid, when no call of this process owns it). Temp folders from
 *   other PID namespaces (another container sharing the cache) are left alone: their owner may be alive.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, type Dirent, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addAbortSignal } from 'node:stream';
import { digestHex } from '../../oci/digest.js';
import { CairnError, messageOf } from '../../oci/errors.js';
import type { Image } from '../../oci/image.js';
import { extractLayer } from '../../oci/layer/extract.js';
import { openUncompressed } from '../../oci/layer.js';
import { pidNamespace, processAlive } from '../../oci/process-liveness.js';
import { SHARED_HOST_FILES } from './bwrap-args.js';

export interface PrepareRootfsOptions {
  /** Receives warnings (device nodes and FIFOs skipped). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

const TMP_PREFIX = '.tmp-';
/** Temp folders owned by calls in progress in this process. */
const active = new Set<string>();

/** Returns `<cacheDir>/<manifest digest hex>`, extracting the image there first unless it already is. */
export async function prepareRootfs(image: Image, cacheDir: string, opts: PrepareRootfsOptions = {}): Promise<string> {
  const target = join(cacheDir, digestHex(image.digest));
  if (isDir(target)) return target;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError(`cannot create the root filesystem cache ${cacheDir}`, e);
  }
  removeStaleTemps(cacheDir);
  const tmp = join(cacheDir, `${TMP_PREFIX}${digestHex(image.digest)}-${pidNamespace()}-${process.pid}-${randomBytes(4).toString('hex')}`);
  active.add(tmp);
  try {
    mkdirSync(tmp, { mode: 0o700 });
    for (const layer of image.layers) {
      opts.signal?.throwIfAborted();
      const stream = await openUncompressed(layer);
      if (opts.signal) addAbortSignal(opts.signal, stream);
      await extractLayer(stream, tmp, {
        stripSetid: true,
        devices: 'skip',
        fifos: 'skip',
        ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
      });
    }
    opts.signal?.throwIfAborted();
    addMountPointFiles(tmp);
    makeOwnerReadable(tmp);
    chmodSync(tmp, 0o755);
    try {
      renameSync(tmp, target);
    } catch (e) {
      if (!isDir(target)) throw ioError(`cannot move the extracted root filesystem into ${target}`, e);
      discard(tmp); // a concurrent preparation won the race: use its tree
    }
    return target;
  } catch (e) {
    discard(tmp);
    throw e;
  } finally {
    active.delete(tmp);
  }
}

/** Creates the shared host files' mount points the tree lacks (see the module comment). */
function addMountPointFiles(tree: string): void {
  for (const file of SHARED_HOST_FILES) {
    const parent = lstatSync(join(tree, dirname(file)), { throwIfNoEntry: false });
    if (parent?.isDirectory() && !lstatSync(join(tree, file), { throwIfNoEntry: false })) writeFileSync(join(tree, file), '', { mode: 0o644, flag: 'wx' });
  }
}

/** Removes a temp folder; what cannot be removed now is left to the next stale-temp cleanup. */
function discard(tmp: string): void {
  try {
    removeReadOnlyTree(tmp);
  } catch {
    // the folder's name marks it as this process's: once the process is gone it is stale and removed
  }
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function ioError(what: string, e: unknown): CairnError {
  return new CairnError('IO', `${what}: ${messageOf(e)}`, { cause: e, hint: 'check free disk space and the permissions of the cache folder' });
}

function removeStaleTemps(cacheDir: string): void {
  const ns = pidNamespace();
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const m = /^\.tmp-[0-9a-f]+-(\w+)-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || m[1] !== ns) continue;
    const path = join(cacheDir, name);
    const pid = Number(m[2]);
    const stale = pid === process.pid ? !active.has(path) : !processAlive(pid);
    if (stale) discard(path);
  }
}

/** Gives u+r to files and u+rx to folders where the image withheld them (walks without following links). */
function makeOwnerReadable(root: string): void {
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw ioError(`cannot read ${dir}`, e);
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        const mode = lstatSync(p).mode & 0o7777;
        if ((mode & 0o500) !== 0o500) chmodSync(p, mode | 0o500);
        walk(p);
      } else if (e.isFile()) {
        const mode = lstatSync(p).mode & 0o7777;
        if ((mode & 0o400) === 0) chmodSync(p, mode | 0o400);
      }
    }
  };
  walk(root);
}

/**
 * Removes a tree that may hold folders without write or execute permission (an image's 0555 folders), which
 * a non-root user cannot empty without first making them writable. Never follows symlinks.
 */
export function removeReadOnlyTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    // fall through: open up the folders and try again
  }
  const open = (dir: string): void => {
    try {
      chmodSync(dir, 0o700);
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) open(join(dir, e.name));
    } catch {
      // best effort: rmSync below reports what is left
    }
  };
  if (isDir(path)) open(path);
  rmSync(path, { recursive: true, force: true });
}
