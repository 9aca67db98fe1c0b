import { posix } from 'node:path';
import type { CopyFilter } from '../sdk/index.js';

/**
 * Whether `npm prune --omit=dev` would remove anything from an install, judged from npm's hidden lockfile
 * (`node_modules/.package-lock.json`, npm ≥ 7: exactly what is installed). npm marks a package only
 * devDependencies need `dev: true`, and one both dev and optional dependencies need `devOptional: true`.
 * With neither anywhere the pruned copy equals the install, so the prune (an npm start, ~0.3 s) is skipped.
 * Anything unexpected counts as "may remove": the prune runs.
 */
export function hasDevPackages(hidden: unknown): boolean {
  const packages = (hidden as { packages?: unknown } | undefined)?.packages;
  if (!packages || typeof packages !== 'object') return true;
  return Object.values(packages as Record<string, unknown>).some((e) => {
    if (!e || typeof e !== 'object') return true;
    const { dev, devOptional } = e as { dev?: unknown; devOptional?: unknown };
    return dev === true || devOptional === true;
  });
}

/**
 * What `npm prune --omit=dev` will remove, as a copy filter for the launch node_modules: the folders of packages
 * npm's hidden lockfile marks `dev: true` (keys relative to the project: `node_modules/typescript`,
 * `node_modules/a/node_modules/b`) and the `node_modules/.bin` links into them. Copying without them costs a
 * fraction of copying everything (the large bench app: 87 MB copied for 14 MB kept); the prune still runs on
 * the copy afterwards and leaves what npm itself would. Undefined when the lockfile marks none, or is not as
 * expected (then everything is copied).
 */
export function devPackageFilter(hidden: unknown): CopyFilter | undefined {
  const packages = (hidden as { packages?: unknown } | undefined)?.packages;
  if (!packages || typeof packages !== 'object') return undefined;
  const dev = new Set(Object.entries(packages as Record<string, unknown>)
    .filter(([key, e]) => key.startsWith('node_modules/') && typeof e === 'object' && e !== null && (e as { dev?: unknown }).dev === true)
    .map(([key]) => key));
  if (dev.size === 0) return undefined;
  const inDevPackage = (rel: string): boolean => {
    for (let p = rel; p.includes('node_modules/'); p = posix.dirname(p)) if (dev.has(p)) return true;
    return false;
  };
  return (rel, link) => (link === undefined ? dev.has(rel) : /(^|\/)node_modules\/\.bin\/[^/]+$/.test(rel) && inDevPackage(posix.join(posix.dirname(rel), link)));
}
