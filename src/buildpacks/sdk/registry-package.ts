/**
 * A tool published as an npm package (yarn, @yarnpkg/cli-dist, pnpm): its releases from an npm registry,
 * the choice of one for a version request and a Node.js version, and its verified installation.
 *
 * Choice: an exact version is taken as it is (when the registry has it); a range takes the newest stable
 * release satisfying it whose `engines.node` accepts the Node.js version. The tarball is checked against
 * `dist.integrity` (else `dist.shasum`) while it is extracted; its `package/` folder becomes `dest`.
 */
import { rename, rm } from 'node:fs/promises';
import semver from 'semver';
import type { Env } from './context.js';
import { downloadArchive, parseDigest } from './download.js';
import { BuildpackError } from './errors.js';
import { getJson } from './http.js';

export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org';

export interface PackageRelease {
  version: string;
  enginesNode?: string;
  tarball: string;
  /** SRI (`sha512-…`) or `sha1:<hex>`. */
  integrity: string;
}

interface VersionDoc {
  version?: string;
  engines?: { node?: unknown };
  dist?: { tarball?: string; integrity?: string; shasum?: string };
}

function release(v: VersionDoc | undefined): PackageRelease | undefined {
  const dist = v?.dist;
  const integrity = dist?.integrity ?? (dist?.shasum ? `sha1:${dist.shasum}` : undefined);
  if (!v?.version || !dist?.tarball || !integrity) return undefined;
  return { version: v.version, tarball: dist.tarball, integrity, ...(typeof v.engines?.node === 'string' ? { enginesNode: v.engines.node } : {}) };
}

function acceptsNode(r: PackageRelease, node: string): boolean {
  if (!r.enginesNode) return true;
  try {
    return semver.satisfies(node, r.enginesNode);
  } catch {
    return false;
  }
}

/**
 * The release for `range` (a semver range or exact version) that runs on Node.js `node`. `what` names the
 * request in errors ("pnpm ^9 (package.json engines.pnpm)").
 */
export function pickRelease(releases: readonly PackageRelease[], range: string, node: string, what: string): PackageRelease {
  const exact = semver.valid(range);
  const matching = releases
    .filter((r) => semver.valid(r.version) && (exact ? r.version === exact : semver.prerelease(r.version) === null && semver.satisfies(r.version, range)))
    .sort((a, b) => semver.rcompare(a.version, b.version));
  if (!matching.length) throw new BuildpackError(`no release of ${what} exists in the registry`, { hint: 'ask for a version the registry has (`npm view <package> versions` lists them)' });
  const ok = matching.find((r) => acceptsNode(r, node));
  if (!ok) {
    throw new BuildpackError(`${what}: ${matching[0]!.version} does not run on Node.js ${node} (its engines.node is ${matching[0]!.enginesNode})`, {
      hint: 'ask for a version that supports this Node.js version, or choose another Node.js version (engines.node, BP_NODE_VERSION)',
    });
  }
  return ok;
}

export function registryPackage(registry: string, name: string, env: Env) {
  const base = registry.replace(/\/+$/, '');
  const path = name.replace('/', '%2f');
  const what = `the npm registry ${base}, package ${name}`;
  return {
    what,
    /** Every release (the packument). */
    async releases(): Promise<PackageRelease[]> {
      const doc = (await getJson(`${base}/${path}`, { env, what, headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' } })) as { versions?: Record<string, VersionDoc> };
      return Object.entries(doc.versions ?? {}).flatMap(([version, v]) => release({ ...v, version }) ?? []);
    },
    /** One release by exact version (one small document instead of the packument). */
    async release(version: string): Promise<PackageRelease> {
      const r = release((await getJson(`${base}/${path}/${encodeURIComponent(version)}`, { env, what })) as VersionDoc);
      if (!r) throw new BuildpackError(`${what} has no tarball with a digest for ${version}`, { hint: 'check the registry (or mirror)' });
      return r;
    },
  };
}

/**
 * The release for `range` (exact: its own small document; a range: the packument, limited to versions
 * `accept` allows), checked against the Node.js version (pickRelease). A missing exact version says so.
 */
export async function resolveRelease(pkg: ReturnType<typeof registryPackage>, range: string, node: string, what: string, accept: (version: string) => boolean = () => true): Promise<PackageRelease> {
  const exact = semver.valid(range);
  let releases: PackageRelease[];
  if (exact) {
    try {
      releases = [await pkg.release(exact)];
    } catch (e) {
      if (e instanceof BuildpackError && /HTTP 404/.test(e.message)) releases = [];
      else throw e;
    }
  } else {
    releases = (await pkg.releases()).filter((r) => accept(r.version));
  }
  return pickRelease(releases, range, node, what);
}

/** Downloads `r` into `dest` (which must not exist), verified; returns the bytes downloaded. */
export async function installRelease(r: PackageRelease, dest: string, opts: { env: Env; staging: string; what: string }): Promise<number> {
  const bytes = await downloadArchive(r.tarball, {
    env: opts.env,
    digest: parseDigest(r.integrity),
    staging: opts.staging,
    gzip: true,
    what: opts.what,
    map: (p) => (p.startsWith('package/') ? p.slice('package/'.length) : undefined),
  });
  await rename(opts.staging, dest);
  await rm(opts.staging, { recursive: true, force: true });
  return bytes;
}
