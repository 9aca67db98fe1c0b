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
