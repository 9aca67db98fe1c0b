/**
 * stack.toml (+ the stack.lock beside it) → the stack's build and run images, as values: what
 * `cairn stack create` and the default builder (default-builder.ts) share. Everything that can fail on
 * bad input — the config, the lock, resolution, downloads, signatures, checksums, configuration — fails
 * here, before the caller writes anything. The lock is not written here: the caller writes it with
 * `writeLock` once both images are stored, so a failed store never leaves a lock for images that do not exist.
 *
 * Caches under `home`: Debian packages by content (`debian/`), composed layers by key (`stack-layers/`),
 * and a scratch folder under `tmp/` removed before returning.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../oci/atomic-file.js';
import { CairnError, messageOf } from '../oci/errors.js';
import type { Image } from '../oci/image.js';
import { parseStackConfig } from '../stack/config.js';
import { configurePackages } from '../stack/configure.js';
import { ContentCache } from '../stack/debian/cache.js';
import type { HttpFetch } from '../stack/debian/http.js';
import { findBundledKeysDir, loadKeyring } from '../stack/debian/keyring.js';
import { createStackImages } from '../stack/image/create-stack.js';
import { LayerCache } from '../stack/image/layer-cache.js';
import { formatStackLock, parseStackLock } from '../stack/lock.js';
import { lockStack } from '../stack/lock-stack.js';
import { readDefinition } from './read-definition.js';

export interface MakeStackOptions {
  /** Path of stack.toml; its lock is `stack.lock` beside it. */
  configPath: string;
  /** stack.toml's name, for messages. */
  configName: string;
  /** cairn's home (caches, scratch). */
  home: string;
  /** Resolve the packages anew even when a lock exists. */
  update: boolean;
  now: Date;
  /** True when cairn runs as root: only then are the build image's packages configured. */
  root: boolean;
  /** GETs from Debian's mirrors. */
  fetch: HttpFetch;
  log: (message: string) => void;
  warn: (message: string) => void;
}

export interface MadeStack {
  build: Image;
  run: Image;
  /** Whether each image's layer came from the layer cache. */
  cached: { build: boolean; run: boolean };
  lockPath: string;
  /** True when the packages were resolved anew: the lock must be (re)written. */
  resolved: boolean;
  /** Writes the lock when it was resolved anew; call once both images are stored. */
  writeLock(): Promise<void>;
}

export async function makeStack(opts: MakeStackOptions): Promise<MadeStack> {
  const config = parseStackConfig(await readDefinition(opts.configPath, opts.configName, 'the stack definition'), { what: opts.configName, baseDir: dirname(opts.configPath) });
  const lockPath = join(dirname(opts.configPath), 'stack.lock');
  const lockText = await readFile(lockPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new CairnError('IO', `cannot read ${lockPath}: ${messageOf(e)}`, { cause: e, hint: 'check the file\'s permissions' });
  });
  const existing = lockText === undefined ? undefined : parseStackLock(lockText, lockPath);
  const keysDir = findBundledKeysDir(import.meta.url);
  if (!keysDir) throw new CairnError('NOT_FOUND', 'Debian\'s archive keys (stacks/keys) are not where cairn is installed', { hint: 'reinstall cairn; the keys ship with it' });
  const keyring = await loadKeyring(keysDir);

  const debs = new ContentCache(join(opts.home, 'debian'));
  await mkdir(join(opts.home, 'tmp'), { recursive: true });
  const workDir = await mkdtemp(join(opts.home, 'tmp', 'stack-'));
  try {
    const { lock, resolved } = await lockStack({ config, ...(existing ? { lock: existing } : {}), update: opts.update, keyring, cache: debs, fetch: opts.fetch, now: opts.now, warn: opts.warn });
    if (resolved) opts.log(`resolved ${lock.build.packages.length} build and ${lock.run.packages.length} run packages`);
    const images = await createStackImages({
      config, lock, debs, layers: new LayerCache(join(opts.home, 'stack-layers')), workDir, fetch: opts.fetch, warn: opts.warn, log: opts.log,
      ...(opts.root ? { configure: (tree) => configurePackages(tree) } : { configureUnavailable: 'cairn is not running as root' }),
    });
    return {
      build: images.build,
      run: images.run,
      cached: images.cached,
      lockPath,
      resolved,
      writeLock: async () => {
        if (resolved) await writeFileAtomic(lockPath, formatStackLock(lock));
      },
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
