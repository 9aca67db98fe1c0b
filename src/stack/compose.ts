/**
 * Composes the root filesystem of one image of a stack from its locked packages:
 * 1. merged-/usr symlinks; 2. every .deb downloaded (sha256-checked, cached) and unpacked in name order;
 * 3. the stack's extra files; 4. /tmp, passwd/group with the CNB user, the CA bundle, the time zone;
 * 5. the installed-package records (dpkg database for the build image, status.d for the run image).
 * Maintainer scripts are not run: `needsConfigure` lists the packages that have them (see configure.ts).
 * The result is a RootTree on disk plus its entry table, ready to become a layer.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { sha256 } from '../oci/digest.js';
import { CairnError } from '../oci/errors.js';
import type { ProgressSink } from '../oci/progress.js';
import type { StackConfig } from './config.js';
import type { ContentCache } from './debian/cache.js';
import { type DebPackage, decodeData, hasMaintainerScripts, readDeb } from './debian/deb.js';
import { type DebRef, downloadDebs } from './debian/download.js';
import type { HttpFetch } from './debian/http.js';
import { unpackData } from './debian/unpack.js';
import { XzPool } from './debian/xz-pool.js';
import type { LockedPackage, StackLock } from './lock.js';
import { RootTree } from './root-tree.js';
import { writeCaBundle } from './rootfs/ca-bundle.js';
import { type DpkgState, type InstalledPackage, writeDpkgDatabase, writeStatusD } from './rootfs/dpkg-db.js';
import { createMergedUsr } from './rootfs/merged-usr.js';
import { hasOsRelease, writeExtraFiles, writeTempDirs, writeTimezone } from './rootfs/system-files.js';
import { writeUsers } from './rootfs/users.js';

export type ImageKind = 'build' | 'run';

export interface ComposeOptions {
  config: StackConfig;
  lock: StackLock;
  image: ImageKind;
  /** Empty or missing folder to compose into. */
  root: string;
  cache: ContentCache;
  fetch: HttpFetch;
  /**
   * Build image only: `unpacked` leaves packages with maintainer scripts for `dpkg --configure -a`;
   * `installed` (default) records everything as configured.
   */
  dpkgState?: DpkgState;
  /** Threads decoding xz data members (default: the machine's available parallelism). */
  workers?: number;
  progress?: ProgressSink;
  warn?: (message: string) => void;
  signal?: AbortSignal;
}

export interface ComposedImage {
  tree: RootTree;
  packages: InstalledPackage[];
  /** Names of the packages with maintainer scripts (preinst/postinst/…), sorted. */
  needsConfigure: string[];
  /** Certificates in the CA bundle (0 when ca-certificates is not installed). */
  certificates: number;
}

/** Composes one image into `opts.root`. On failure the folder is left as it is; the caller removes it. */
export async function composeImage(opts: ComposeOptions): Promise<ComposedImage> {
  const { config, lock } = opts;
  const locked = lock[opts.image].packages;
  const refs = locked.map((p) => debRef(p, lock, config));
  const paths = await downloadDebs(refs, {
    cache: opts.cache,
    fetch: opts.fetch,
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });

  const tree = new RootTree(opts.root);
  createMergedUsr(tree, config.arch);
  const packages: InstalledPackage[] = [];
  const needsConfigure: string[] = [];
  const order = locked.map((p, i) => ({ p, path: paths[i]! })).sort((a, b) => (a.p.name < b.p.name ? -1 : a.p.name > b.p.name ? 1 : 0));
  const workers = opts.workers ?? availableParallelism();
  const pool = new XzPool(workers);
  try {
    // Packages are read and decoded ahead (a bounded window, on the pool) and unpacked strictly in order.
    const window = workers + 2;
    const pending: Promise<{ deb: DebPackage; data: Buffer }>[] = [];
    const start = (i: number): void => {
      const item = order[i];
      if (!item) return;
      const loading = loadPackage(item.p, item.path, pool);
      loading.catch(() => undefined); // awaited in order below; this keeps an early failure from going unhandled
      pending[i] = loading;
    };
    for (let i = 0; i < window; i++) start(i);
    for (let i = 0; i < order.length; i++) {
      const { p } = order[i]!;
      const { deb, data } = await pending[i]!;
      delete pending[i];
      start(i + window);
      const { files } = await unpackData(data, tree, debName(p));
      packages.push({ name: p.name, version: p.version, arch: p.arch, control: deb.control, controlFiles: deb.controlFiles, files });
      if (hasMaintainerScripts(deb)) needsConfigure.push(p.name);
    }
  } finally {
    await pool.close();
  }

  // Extra files come before the generated ones so that a CA certificate added under
  // /usr/local/share/ca-certificates lands in the bundle (the config refuses paths generated below).
  await writeExtraFiles(tree, config[opts.image].files, (p) => readFile(p));
  writeTempDirs(tree);
  writeUsers(tree, config.user);
  const certificates = writeCaBundle(tree);
  writeTimezone(tree, config.timezone);
  if (!hasOsRelease(tree)) opts.warn?.(`the ${opts.image} image has no /etc/os-release (add base-files to ${opts.image}.packages); scanners will not recognise the distribution`);
  if (opts.image === 'build') writeDpkgDatabase(tree, packages, opts.dpkgState ?? 'installed');
  else writeStatusD(tree, packages);
  return { tree, packages, needsConfigure, certificates };
}

function debName(p: LockedPackage): string {
  return `${p.name}_${p.version}_${p.arch}.deb`;
}

/** Reads a cached .deb, checks it is the locked package, and decodes its data member. */
async function loadPackage(p: LockedPackage, path: string, pool: XzPool): Promise<{ deb: DebPackage; data: Buffer }> {
  const what = debName(p);
  // The cache verified the bytes against the lock's sha256 when they entered it.
  const deb = await readDeb(await readFile(path), what);
  const name = deb.control.get('Package');
  const version = deb.control.get('Version');
  if (name !== p.name || version !== p.version) {
    throw new CairnError('INVALID_ARCHIVE', `${p.filename} contains ${name} ${version}, but stack.lock expects ${p.name} ${p.version}`, {
      hint: 'the lock is inconsistent; regenerate it with --update',
    });
  }
  return { deb, data: await decodeData(deb, what, pool) };
}

/**
 * Bumped whenever composeImage's output for the same inputs changes, so that caches keyed on
 * `composeKey` are invalidated.
 */
const COMPOSE_FORMAT = 1;

/**
 * A digest of every input that determines the tree composeImage makes for `image`: the locked packages,
 * the architecture, user, time zone, extra files (contents included) and the dpkg state. Mirrors do not
 * count. Lets a caller cache what it builds from the tree (layers) and skip composing on a hit.
 */
export async function composeKey(config: StackConfig, lock: StackLock, image: ImageKind, dpkgState: DpkgState = 'installed', read: (path: string) => Promise<Buffer> = (p) => readFile(p)): Promise<string> {
  const files = [];
  for (const f of config[image].files) {
    const data = f.content !== undefined ? Buffer.from(f.content) : await read(f.source!);
    files.push({ path: f.path, mode: f.mode, uid: f.uid, gid: f.gid, sha256: sha256(data) });
  }
  const inputs = {
    format: COMPOSE_FORMAT,
    image,
    arch: config.arch,
    user: config.user,
    timezone: config.timezone,
    dpkgState: image === 'build' ? dpkgState : undefined,
    packages: [...lock[image].packages].sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => [p.name, p.version, p.arch, p.sha256]),
    files,
  };
  return sha256(JSON.stringify(inputs));
}

/** Where a locked package is downloaded from: the stack's mirror for its suite. */
function debRef(p: LockedPackage, lock: StackLock, config: StackConfig): DebRef {
  const mirror = p.suite.endsWith('-security') ? config.mirrors.security : config.mirrors.debian;
  if (!lock.sources.some((s) => s.suite === p.suite)) {
    throw new CairnError('INVALID_ARGUMENT', `stack.lock: package ${p.name} comes from suite ${p.suite}, which the lock's sources do not list`, {
      hint: 'regenerate stack.lock with --update',
    });
  }
  return { name: p.name, mirror, filename: p.filename, sha256: p.sha256, size: p.size };
}
