/**
 * Picking the release: the newest non-prerelease version that satisfies the request.
 *
 * LTS lines: a nodejs.org-style index says which releases are LTS. The npm registry does not, so there an
 * even major N (≥ 4) counts as LTS once version (N+1).1.0 or later exists: Node.js ships the odd major N+1
 * in October and N enters LTS within days of N+1's first minor release (20 → 21.1.0, 22 → 23.1.0,
 * 24 → 25.1.0). Codenames map to majors by the table below (Node.js release schedule).
 */
import semver from 'semver';
import { BuildpackError } from '../sdk/index.js';
import type { NodeRequest, VersionRequest } from './version-request.js';

export interface Release {
  version: string;
  /** LTS codename when the source says so; false when it says the release is not LTS; undefined when it does not say. */
  lts?: string | false;
}

export const LTS_CODENAMES: Readonly<Record<string, number>> = {
  argon: 4, boron: 6, carbon: 8, dubnium: 10, erbium: 12, fermium: 14, gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24,
};

/** LTS majors, oldest first. */
export function ltsMajors(releases: readonly Release[]): number[] {
  const majors = new Set<number>();
  if (releases.some((r) => r.lts !== undefined)) {
    for (const r of releases) if (r.lts) majors.add(semver.major(r.version));
  } else {
    const versions = releases.map((r) => r.version);
    for (const v of versions) {
      const m = semver.major(v);
      if (m >= 4 && m % 2 === 0 && versions.some((w) => semver.major(w) === m + 1 && semver.minor(w) >= 1)) majors.add(m);
    }
  }
  return [...majors].sort((a, b) => a - b);
}

function describe(r: NodeRequest): string {
  if (r.kind === 'range') return `range ${r.range}`;
  if (r.kind === 'latest') return 'the newest release';
  return r.codename ? `LTS line "${r.codename}"` : r.back ? `the LTS line ${r.back} before the newest` : 'the newest LTS line';
}

function newest(versions: string[]): string | undefined {
  return versions.sort(semver.rcompare)[0];
}

/** The chosen version, or a BuildpackError saying what was asked, where, and what exists. */
export function resolveNodeVersion(req: VersionRequest, releases: readonly Release[], where: string): string {
  const stable = releases.filter((r) => semver.valid(r.version) && semver.prerelease(r.version) === null);
  const versions = stable.map((r) => r.version);
  let chosen: string | undefined;
  const r = req.request;
  if (r.kind === 'range') {
    chosen = semver.maxSatisfying(versions, r.range) ?? undefined;
  } else if (r.kind === 'latest') {
    chosen = newest(versions);
  } else {
    const lts = ltsMajors(stable);
    let major: number | undefined;
    if (r.codename) {
      major = LTS_CODENAMES[r.codename] ?? stable.find((x) => typeof x.lts === 'string' && x.lts.toLowerCase() === r.codename)?.version.split('.').map(Number)[0];
      if (major === undefined) {
        throw new BuildpackError(`${req.source} asks for the Node.js LTS line "${r.codename}", which is unknown`, { hint: `use one of ${Object.keys(LTS_CODENAMES).join(', ')}, lts/*, or a version range` });
      }
    } else {
      major = lts[lts.length - 1 - (r.back ?? 0)];
    }
    if (major !== undefined) chosen = newest(versions.filter((v) => semver.major(v) === major));
  }
  if (chosen) return chosen;
  const majors = [...new Set(versions.map((v) => semver.major(v)))].sort((a, b) => a - b);
  const latest = newest([...versions]);
  throw new BuildpackError(`no Node.js release satisfies ${req.source === 'default' ? '' : `${req.source} `}${JSON.stringify(req.raw)} (${describe(r)}) in ${where}`, {
    output: versions.length ? `available: majors ${majors[0]}–${majors[majors.length - 1]}, newest ${latest}` : 'the source lists no releases',
    hint: req.source === 'BP_NODE_VERSION'
      ? 'change BP_NODE_VERSION to a version that exists'
      : req.source === 'default'
        ? 'set BP_NODE_VERSION or engines.node in package.json to a version the source has'
        : `change ${req.source} to a version or range that exists (e.g. "${latest ? semver.major(latest) : 20}"), or override it with BP_NODE_VERSION`,
  });
}
