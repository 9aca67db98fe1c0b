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
 * - Bounded: a tree is hundreds of MB and every new builder brings one (a cairn upgrade, an updated custom
 *   builder). `<cacheDir>/<digest hex>.used` records when a preparation last handed its tree out (its mtime;
 *   a tree without one, extracted by an older cairn, counts from its folder's ctime). Whenever a new tree is
 *   extracted, the moment the cache grows, trees unused for PRUNE_AFTER_MS are removed.
 * - No tree is removed while a build may be using it: marking a tree used and pruning both run under the lock
 *   `<cacheDir>/.lock`, and a preparation skips the lock only when the mark is younger than MARK_REFRESH_MS,
 *   which no pruning comes near. A pruned tree is first renamed to a temp name of this process, so an
 *   interrupted removal is finished by the stale-temp cleanup.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, type Dirent, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addAbortSignal } from 'node:stream';
import { digestHex } from '../../oci/digest.js';
import { CairnError, messageOf } from '../../oci/errors.js';
import type { Image } from '../../oci/image.js';
import { extractLayer } from '../../oci/layer/extract.js';
import { openUncompressed } from '../../oci/layer.js';
import { pidNamespace, processAlive } from '../../oci/process-liveness.js';
import { withFileLock } from '../../oci/store/layout/lock.js';
import { SHARED_HOST_FILES } from './bwrap-args.js';

export interface PrepareRootfsOptions {
  /** Receives warnings (device nodes and FIFOs skipped, a tree that could not be pruned). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** The clock, for use marks and pruning (default: the system clock). */
  now?: () => Date;
}

const HOUR_MS = 3_600_000;
/** A tree no preparation handed out for this long is removed when the next new tree is extracted. */
export const PRUNE_AFTER_MS = 7 * 24 * HOUR_MS;
/** A use mark younger than this is not refreshed (nor is the lock taken): no pruning can take its tree. */
const MARK_REFRESH_MS = HOUR_MS;
const TREE_RE = /^[0-9a-f]{64}$/;
const MARK_SUFFIX = '.used';
const LOCK_FILE = '.lock';

const TMP_PREFIX = '.tmp-';
/** Temp folders owned by calls in progress in this process. */
const active = new Set<string>();

/** Returns `<cacheDir>/<manifest digest hex>`, extracting the image there first unless it already is. */
export async function prepareRootfs(image: Image, cacheDir: string, opts: PrepareRootfsOptions = {}): Promise<string> {
  const hex = digestHex(image.digest);
  const target = join(cacheDir, hex);
  const now = opts.now ?? (() => new Date());
  if (await useKeptTree(cacheDir, hex, now, opts.onWarning)) return target;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError(`cannot create the root filesystem cache ${cacheDir}`, e);
  }
  removeStaleTemps(cacheDir);
  const tmp = tempName(cacheDir, hex);
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
    // Marked before it appears, so that no pruning can take it between the two.
    await locked(cacheDir, now, async () => markUsed(cacheDir, hex, now()));
    try {
      renameSync(tmp, target);
    } catch (e) {
      if (!isDir(target)) throw ioError(`cannot move the extracted root filesystem into ${target}`, e);
      discard(tmp); // a concurrent preparation won the race: use its tree
    }
    await pruneUnused(cacheDir, now, opts.onWarning);
    return target;
  } catch (e) {
    discard(tmp);
    throw e;
  } finally {
    active.delete(tmp);
  }
}

/**
 * True when the tree of `hex` is there, marked used now: without the lock while its mark is fresh, else under
 * the lock, so that a pruning either ran before (the tree is gone: false) or sees the fresh mark. A cache
 * folder cairn cannot write to (made read-only by its owner) is used as it is: nothing prunes it either.
 */
async function useKeptTree(cacheDir: string, hex: string, now: () => Date, onWarning?: (message: string) => void): Promise<boolean> {
  const target = join(cacheDir, hex);
  const mark = lstatSync(`${target}${MARK_SUFFIX}`, { throwIfNoEntry: false });
  if (mark && now().getTime() - mark.mtimeMs < MARK_REFRESH_MS) return isDir(target);
  if (!isDir(target)) return false;
  try {
    return await locked(cacheDir, now, async () => {
      if (!isDir(target)) return false;
      markUsed(cacheDir, hex, now());
      return true;
    });
  } catch (e) {
    onWarning?.(`cannot mark ${target} used, using it as it is: ${messageOf(e)}`);
    return isDir(target);
  }
}

/** Sets the use mark of `hex` to `at` (creating it). Call it holding the lock. */
function markUsed(cacheDir: string, hex: string, at: Date): void {
  const mark = join(cacheDir, `${hex}${MARK_SUFFIX}`);
  try {
    closeSync(openSync(mark, 'a', 0o644));
    utimesSync(mark, at, at);
  } catch (e) {
    throw ioError(`cannot record the use of ${join(cacheDir, hex)}`, e);
  }
}

/** The last time a preparation handed the tree out (see the module comment); undefined when it is gone. */
function lastUsedMs(cacheDir: string, name: string): number | undefined {
  const mark = lstatSync(join(cacheDir, `${name}${MARK_SUFFIX}`), { throwIfNoEntry: false });
  if (mark) return mark.mtimeMs;
  return lstatSync(join(cacheDir, name), { throwIfNoEntry: false })?.ctimeMs;
}

/**
 * Removes the trees unused for PRUNE_AFTER_MS (the one just extracted was marked used now), and use marks as
 * old left without a tree. Best effort: what cannot be removed is reported and left for the next time.
 */
async function pruneUnused(cacheDir: string, now: () => Date, onWarning?: (message: string) => void): Promise<void> {
  const moved: string[] = [];
  try {
    await locked(cacheDir, now, async () => {
      const names = readdirSync(cacheDir);
      const trees = new Set(names.filter((n) => TREE_RE.test(n)));
      for (const name of trees) {
        const used = lastUsedMs(cacheDir, name);
        if (used === undefined || now().getTime() - used < PRUNE_AFTER_MS) continue;
        const aside = tempName(cacheDir, name);
        renameSync(join(cacheDir, name), aside);
        moved.push(aside);
        rmSync(join(cacheDir, `${name}${MARK_SUFFIX}`), { force: true });
      }
      // A young mark without its tree may belong to an extraction about to rename its tree into place.
      for (const name of names) {
        const tree = name.endsWith(MARK_SUFFIX) ? name.slice(0, -MARK_SUFFIX.length) : '';
        const mark = join(cacheDir, name);
        if (TREE_RE.test(tree) && !trees.has(tree) && now().getTime() - lstatSync(mark).mtimeMs >= PRUNE_AFTER_MS) rmSync(mark, { force: true });
      }
    });
  } catch (e) {
    onWarning?.(`cannot prune the root filesystem cache ${cacheDir}: ${messageOf(e)}`);
  }
  for (const aside of moved) discard(aside);
}

function locked<T>(cacheDir: string, now: () => Date, fn: () => Promise<T>): Promise<T> {
  return withFileLock(join(cacheDir, LOCK_FILE), { now, what: `the root filesystem cache ${cacheDir}` }, fn);
}

/** A temp folder name of this process for the tree `hex` (what `removeStaleTemps` recognises). */
function tempName(cacheDir: string, hex: string): string {
  return join(cacheDir, `${TMP_PREFIX}${hex}-${pidNamespace()}-${process.pid}-${randomBytes(4).toString('hex')}`);
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
