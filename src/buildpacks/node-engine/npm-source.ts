/** npm releases and tarballs from an npm registry (the `npm` package). */
import { type Env, getJson, parseDigest, type ExpectedDigest, BuildpackError } from '../sdk/index.js';
import type { NpmRelease } from './npm-version.js';

interface NpmPackument {
  versions?: Record<string, { engines?: { node?: unknown }; dist?: { tarball?: string; integrity?: string; shasum?: string } }>;
}

export interface NpmArtifact {
  version: string;
  url: string;
  digest: ExpectedDigest;
  digestText: string;
}

export function npmRegistry(registry: string, env: Env) {
  const base = registry.replace(/\/+$/, '');
  const what = `the npm registry ${base}, package npm`;
  let doc: Promise<NpmPackument> | undefined;
  const packument = () => (doc ??= getJson(`${base}/npm`, { env, what, headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' } }) as Promise<NpmPackument>);
  return {
    /** Starts reading the release list (for a later `releases()`), without waiting for it. */
    prefetch(): void {
      packument().catch(() => undefined);
    },
    async releases(): Promise<NpmRelease[]> {
      return Object.entries((await packument()).versions ?? {}).map(([version, m]) => ({
        version,
        ...(typeof m.engines?.node === 'string' ? { enginesNode: m.engines.node } : {}),
      }));
    },
    /** The tarball of `version`: from the release list when it was read, else from the version's own document. */
    async artifact(version: string): Promise<NpmArtifact> {
      const listed = doc && (await doc).versions?.[version];
      const m = listed || ((await getJson(`${base}/npm/${encodeURIComponent(version)}`, { env, what })) as { dist?: { tarball?: string; integrity?: string; shasum?: string } });
      const dist = m.dist;
      if (!dist?.tarball) throw new BuildpackError(`${what} has no tarball for npm ${version}`, { hint: 'check the registry mirror' });
      const digestText = dist.integrity ?? (dist.shasum ? `sha1:${dist.shasum}` : '');
      return { version, url: dist.tarball, digest: parseDigest(digestText), digestText };
    },
  };
}
