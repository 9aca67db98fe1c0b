/**
 * Which npm goes with the chosen Node.js when it comes from the npm registry (whose node packages carry
 * no npm):
 * 1. `BP_NPM_VERSION` (any range): the newest npm satisfying it;
 * 2. else the newest npm of the major that the Node.js line itself last bundled (table below: 16 → npm 8,
 *    18/20/22 → 10, 24 → 11, …) whose `engines.node` accepts the Node.js version;
 * 3. else (a line newer than the table, or no such npm) the newest 11.x, then 10.x, accepting it;
 * 4. else the newest npm of any version accepting it.
 */
import semver from 'semver';
import { BuildpackError } from '../sdk/index.js';

/** Node.js major → npm major of the line's last releases. */
export const BUNDLED_NPM_MAJOR: Readonly<Record<number, number>> = {
  10: 6, 11: 6, 12: 6, 13: 6, 14: 6, 15: 7, 16: 8, 17: 8, 18: 10, 19: 9, 20: 10, 21: 10, 22: 10, 23: 10, 24: 11, 25: 11,
};

export interface NpmRelease {
  version: string;
  /** `engines.node` of that npm release. */
  enginesNode?: string;
}

function accepts(r: NpmRelease, node: string): boolean {
  if (!r.enginesNode) return true;
  try {
    return semver.satisfies(node, r.enginesNode, { includePrerelease: false });
  } catch {
    return false;
  }
}

export interface NpmChoice {
  version: string;
  why: string;
}

export function chooseNpm(node: string, releases: readonly NpmRelease[], requested: string | undefined): NpmChoice {
  const stable = releases.filter((r) => semver.valid(r.version) && semver.prerelease(r.version) === null).sort((a, b) => semver.rcompare(a.version, b.version));
  if (requested) {
    const range = semver.validRange(requested);
    if (range === null) throw new BuildpackError(`BP_NPM_VERSION ${JSON.stringify(requested)} is not a version or range`, { hint: 'write e.g. BP_NPM_VERSION=10 or 10.8.2' });
    const hit = stable.find((r) => semver.satisfies(r.version, range));
    if (!hit) throw new BuildpackError(`no npm release satisfies BP_NPM_VERSION ${JSON.stringify(requested)}`, { hint: 'change BP_NPM_VERSION to a version the registry has' });
    if (!accepts(hit, node)) throw new BuildpackError(`npm ${hit.version} (BP_NPM_VERSION ${requested}) does not support Node.js ${node}: its engines.node is ${hit.enginesNode}`, { hint: 'choose an npm version that supports this Node.js version, or unset BP_NPM_VERSION' });
    return { version: hit.version, why: `BP_NPM_VERSION ${requested}` };
  }
  const major = BUNDLED_NPM_MAJOR[semver.major(node)];
  const pick = (m: number) => stable.find((r) => semver.major(r.version) === m && accepts(r, node));
  if (major !== undefined) {
    const hit = pick(major);
    if (hit) return { version: hit.version, why: `newest npm ${major}.x, the npm Node.js ${semver.major(node)} ships with` };
  }
  for (const m of [11, 10]) {
    const hit = pick(m);
    if (hit) return { version: hit.version, why: `newest npm ${m}.x supporting Node.js ${node}` };
  }
  const any = stable.find((r) => accepts(r, node));
  if (any) return { version: any.version, why: `newest npm supporting Node.js ${node}` };
  throw new BuildpackError(`no npm release supports Node.js ${node}`, { hint: 'set BP_NPM_VERSION to an npm version that runs on this Node.js version' });
}
