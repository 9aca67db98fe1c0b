/**
 * The volume cache (`-cache-dir`, digest §5.5): a folder laid out as `volume-files.ts` describes.
 *
 * Atomicity: a writer fills its own staging folder (layers hard-linked from the exporter's tars or from the
 * committed generation); commit writes the metadata there and then, holding the folder's lock, renames
 * `committed` → `committed-backup`, staging → `committed`, and removes the backup. A crash (kill -9) at any
 * moment leaves the old or the new generation, which the next open (or a reader that finds no `committed`)
 * recovers under the lock. Files are not fsynced: after a power loss a layer file may be short or empty,
 * which reads detect (every read is checked against the diffID) and treat as a miss.
 *
 * Concurrency: writers never wait for each other while they stage; only the renames of a commit (and
 * recovery) hold the lock, for milliseconds. Two builds sharing the folder therefore both succeed, and the
 * one that commits last wins. Readers take no lock: an open layer file stays readable even when a commit
 * replaces its generation meanwhile; a reader that arrives between the two renames waits on the lock once
 * and retries. Staging folders are told apart by pid, so a cache folder is shared by processes of one pid
 * namespace (one host or one container), not across hosts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type Digest, parseDigest } from '../../oci/digest.js';
import { CairnError, messageOf } from '../../oci/errors.js';
import { withFileLock } from '../../oci/store/layout/lock.js';
import { MAX_TOML_BYTES } from '../files/toml.js';
import { type Cache, CACHE_METADATA_NAME, type CacheMetadata, type CacheWriter, emptyCacheMetadata, type TreeRecord, type Warn } from './cache.js';
import { LayerHealth } from './layer-health.js';
import { parseCacheMetadata, referencedDiffIDs, serializeCacheMetadata } from './metadata.js';
import { keepTree, pruneTrees, takeTree } from './volume-trees.js';
import { exists, ioError, isErrno, layerFile, linkOrCopy, openRegular, readSmallFile, recover, stagingName, type VolumePaths, volumePaths } from './volume-files.js';

export interface VolumeCacheOptions {
  warn: Warn;
  /** The clock, for lock records and lock timeouts (the CLI passes its own). */
  now?: () => Date;
  /** How long a commit waits for another process's lock before STORE_LOCKED (default 60 s). */
  lockTimeoutMs?: number;
}

/**
 * Opens (creating when missing) the volume cache in `dir` and recovers it from an interrupted commit.
 * Throws IO only when the folder cannot be created or locked; everything wrong inside it is a warning.
 */
export async function openVolumeCache(dir: string, opts: VolumeCacheOptions): Promise<Cache> {
  const cache = new VolumeCache(volumePaths(dir), opts);
  try {
    await mkdir(dir, { recursive: true });
    await cache.locked(() => recover(cache.paths));
  } catch (e) {
    throw ioError(`cannot open ${cache.name}`, e);
  }
  return cache;
}

class VolumeCache implements Cache {
  readonly name: string;
  readonly health = new LayerHealth();
  /** Layers restored from a kept tree this run: their tars were not read, and reuse does not read them either. */
  readonly fromTree = new Set<Digest>();
  readonly warn: Warn;
  private readonly now: () => Date;

  constructor(readonly paths: VolumePaths, private readonly opts: VolumeCacheOptions) {
    this.name = `cache dir ${paths.dir}`;
    this.warn = opts.warn;
    // The one default clock, used for lock bookkeeping only; the CLI passes its own.
    this.now = opts.now ?? (() => new Date());
  }

  locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.paths.lock, { now: this.now, what: this.name, ...(this.opts.lockTimeoutMs !== undefined ? { timeoutMs: this.opts.lockTimeoutMs } : {}) }, fn);
  }

  /**
   * Runs `fn` on the committed folder. When it finds nothing because `committed` itself is absent (a commit
   * between its two renames, or one that crashed there), waits for the lock, recovers, and runs it again.
   */
  async inCommitted<T>(fn: (committed: string) => Promise<T>): Promise<T> {
    try {
      return await fn(this.paths.committed);
    } catch (e) {
      if (!isErrno(e, 'ENOENT') || (await exists(this.paths.committed))) throw e;
      await this.locked(() => recover(this.paths));
      return fn(this.paths.committed);
    }
  }

  async metadata(): Promise<CacheMetadata> {
    let text: string;
    try {
      text = await this.inCommitted((c) => readSmallFile(join(c, CACHE_METADATA_NAME), MAX_TOML_BYTES));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) {
        if (await exists(this.paths.committed).catch(() => false)) this.warn(`${this.name} has no metadata file; the build runs without cache`);
        return emptyCacheMetadata();
      }
      this.warn(`${this.name}: cannot read its metadata, the build runs without cache: ${messageOf(e)}`);
      return emptyCacheMetadata();
    }
    return parseCacheMetadata(text, this.name, this.warn);
  }

  async openLayer(diffID: Digest): Promise<Readable | undefined> {
    try {
      parseDigest(diffID);
      const fh = await this.inCommitted((c) => openRegular(layerFile(c, diffID)));
      return this.health.track(diffID, fh.createReadStream(), `layer ${diffID} in ${this.name}`);
    } catch (e) {
      this.warn(isErrno(e, 'ENOENT') ? `${this.name} has no layer ${diffID}; it is not restored` : `${this.name}: cannot read layer ${diffID}, it is not restored: ${messageOf(e)}`);
      return undefined;
    }
  }

  async takeTree(diffID: Digest, dest: string): Promise<TreeRecord | undefined> {
    try {
      const taken = await takeTree(this.paths.trees, parseDigest(diffID), dest, this.warn);
      if (taken) this.fromTree.add(diffID);
      return taken;
    } catch (e) {
      this.warn(`${this.name}: cannot use the kept tree of layer ${diffID}, extracting it instead: ${messageOf(e)}`);
      return undefined;
    }
  }

  async keepTree(diffID: Digest, dir: string, record: TreeRecord, opts?: { setid: boolean }): Promise<void> {
    await keepTree(this.paths.trees, parseDigest(diffID), dir, record, opts?.setid ?? true).catch((e: unknown) => {
      this.warn(`${this.name}: layer ${diffID} is kept as a tar only: ${messageOf(e)}`);
    });
  }

  async begin(): Promise<CacheWriter> {
    const staging = join(this.paths.dir, stagingName(process.pid, randomBytes(6).toString('hex')));
    try {
      await mkdir(staging);
    } catch (e) {
      throw ioError(`cannot start writing ${this.name}`, e);
    }
    return new VolumeCacheWriter(this, staging);
  }

  /** Reads a committed layer whole to check it against its diffID (recorded in `health`). False when absent or damaged. */
  async verify(diffID: Digest): Promise<boolean> {
    try {
      const fh = await this.inCommitted((c) => openRegular(layerFile(c, diffID)));
      const stream = this.health.track(diffID, fh.createReadStream(), `layer ${diffID} in ${this.name}`);
      for await (const _ of stream);
      return true;
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) this.warn(`${this.name}: layer ${diffID} is damaged or unreadable and is not kept: ${messageOf(e)}`);
      return false;
    }
  }
}

class VolumeCacheWriter implements CacheWriter {
  private readonly written = new Set<Digest>();
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(private readonly cache: VolumeCache, private readonly staging: string) {}

  async addLayer(diffID: Digest, tarPath: string): Promise<void> {
    this.checkOpen();
    parseDigest(diffID);
    if (this.written.has(diffID)) return;
    try {
      await linkOrCopy(tarPath, layerFile(this.staging, diffID));
    } catch (e) {
      throw ioError(`cannot add layer ${diffID} (${tarPath}) to ${this.cache.name}`, e);
    }
    this.written.add(diffID);
  }

  async reuseLayer(diffID: Digest): Promise<boolean> {
    this.checkOpen();
    parseDigest(diffID);
    if (this.written.has(diffID)) return true;
    const health = this.cache.health;
    if (health.isBad(diffID)) return false;
    const trusted = health.isGood(diffID) || this.cache.fromTree.has(diffID);
    if (!trusted && !(await this.cache.verify(diffID))) return false;
    try {
      await this.cache.inCommitted((c) => linkOrCopy(layerFile(c, diffID), layerFile(this.staging, diffID)));
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) this.cache.warn(`${this.cache.name}: cannot keep layer ${diffID}: ${messageOf(e)}`);
      return false;
    }
    this.written.add(diffID);
    return true;
  }

  async commit(metadata: CacheMetadata): Promise<void> {
    this.checkOpen();
    const missing = referencedDiffIDs(metadata).filter((d) => !this.written.has(d));
    if (missing.length > 0) {
      throw new CairnError('INVALID_ARGUMENT', `cannot commit ${this.cache.name}: its metadata refers to layers neither added nor kept: ${missing.join(', ')}`, {
        hint: 'add or reuse every layer the metadata lists before committing',
      });
    }
    const { committed, backup } = this.cache.paths;
    try {
      await writeFile(join(this.staging, CACHE_METADATA_NAME), serializeCacheMetadata(metadata), { flag: 'wx', mode: 0o644 });
      await this.cache.locked(async () => {
        await recover(this.cache.paths);
        try {
          if (await exists(committed)) await rename(committed, backup);
          await rename(this.staging, committed);
        } catch (e) {
          await recover(this.cache.paths).catch(() => undefined);
          throw e;
        }
        await rm(backup, { recursive: true, force: true });
        await pruneTrees(this.cache.paths.trees, new Set(referencedDiffIDs(metadata)));
      });
    } catch (e) {
      throw ioError(`cannot commit ${this.cache.name}`, e);
    }
    this.state = 'committed';
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await rm(this.staging, { recursive: true, force: true });
  }

  private checkOpen(): void {
    if (this.state !== 'open') {
      throw new CairnError('INVALID_ARGUMENT', `this writer of ${this.cache.name} was already ${this.state}`, { hint: 'call begin() for a new cache generation' });
    }
  }
}
