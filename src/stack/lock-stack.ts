/**
 * From stack.toml (and stack.lock when there is one) to the exact package set of each image.
 * - a lock that matches the config is used as it is: no index is fetched;
 * - a lock whose inputs drifted from the config is an error, unless `update` is set (like `npm ci`);
 * - no lock, or `update`: the indexes are fetched and verified, both images resolved, a new lock made.
 */
import { CairnError } from '../oci/errors.js';
import { type StackConfig, suiteSources } from './config.js';
import type { ContentCache } from './debian/cache.js';
import type { HttpFetch } from './debian/http.js';
import type { Keyring } from './debian/keyring.js';
import { type IndexedPackage, loadPackageIndex } from './debian/package-index.js';
import { resolvePackages } from './debian/resolver.js';
import { type LockedImage, type LockedPackage, lockDrift, type StackLock } from './lock.js';

export interface LockStackOptions {
  config: StackConfig;
  /** The current lock, if any. */
  lock?: StackLock;
  /** Re-resolve even when the lock matches (`--update`). */
  update?: boolean;
  keyring: Keyring;
  cache: ContentCache;
  fetch: HttpFetch;
  now: Date;
  warn?: (message: string) => void;
  signal?: AbortSignal;
}

export interface LockStackResult {
  lock: StackLock;
  /** True when the lock was (re)resolved rather than taken as it was. */
  resolved: boolean;
}

export async function lockStack(opts: LockStackOptions): Promise<LockStackResult> {
  const { config } = opts;
  if (opts.lock && !opts.update) {
    const drift = lockDrift(opts.lock, config);
    if (drift.length === 0) return { lock: opts.lock, resolved: false };
    throw new CairnError('INVALID_ARGUMENT', `stack.lock does not match stack.toml: ${drift.join(', ')} changed`, {
      hint: 'run again with --update to resolve the packages anew and rewrite stack.lock',
    });
  }
  const index = await loadPackageIndex({
    sources: suiteSources(config),
    arch: config.arch,
    components: config.components,
    keyring: opts.keyring,
    cache: opts.cache,
    fetch: opts.fetch,
    now: opts.now,
    checkValidUntil: config.checkValidUntil,
    ...(opts.warn ? { warn: opts.warn } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const where = `${suiteSources(config).map((s) => s.suite).join(', ')} (${config.arch}; ${config.components.join(', ')})`;
  const image = (spec: StackConfig['build']): LockedImage => {
    const essential = spec.essential ? index.essential().map((p) => p.name).filter((n) => !spec.packages.includes(n) && !spec.exclude.includes(n)) : [];
    const requested = [...spec.packages, ...essential];
    return {
      requested: [...spec.packages],
      exclude: [...spec.exclude],
      essential: spec.essential,
      packages: resolvePackages(index, requested, { where, exclude: spec.exclude }).map(locked),
    };
  };
  return {
    lock: {
      distro: 'debian',
      suite: config.suite,
      arch: config.arch,
      components: [...config.components],
      updates: config.updates,
      security: config.security,
      sources: [...index.snapshots],
      build: image(config.build),
      run: image(config.run),
    },
    resolved: true,
  };
}

function locked(p: IndexedPackage): LockedPackage {
  return { name: p.name, version: p.version, arch: p.arch, suite: p.source.suite, filename: p.filename, sha256: p.sha256, size: p.size };
}
