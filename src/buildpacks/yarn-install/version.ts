/**
 * Which yarn builds the app, first match wins:
 * 1. a release the app vendors: `.yarnrc.yml` `yarnPath` (berry) or `.yarnrc` `yarn-path` (classic), when
 *    the file exists. It runs with node as it is: nothing is downloaded. Its version is `packageManager`'s,
 *    else the one in its file name (`yarn-4.1.0.cjs`), else unknown;
 * 2. package.json `packageManager: yarn@<exact version>`;
 * 3. package.json `engines.yarn` (any semver range);
 * 4. the lockfile's flavour: a berry lockfile (`__metadata:`) takes the newest yarn 2+, any other the newest
 *    yarn 1.x.
 * Yarn 1 (classic) comes from the registry package `yarn` (1.x only: its `latest` tag points elsewhere);
 * yarn 2+ (berry) from `@yarnpkg/cli-dist`, the package corepack installs.
 */
import semver from 'semver';
import { BuildpackError, type PackageManagerField } from '../sdk/index.js';

export type YarnLine = 'classic' | 'berry';

export interface YarnInputs {
  packageManager?: PackageManagerField;
  enginesYarn?: unknown;
  /** `yarnPath` of .yarnrc.yml, when that file exists in the app. */
  berryYarnPath?: string;
  /** `yarn-path` of .yarnrc, when that file exists in the app. */
  classicYarnPath?: string;
  lockfile?: string;
}

export type YarnRequest =
  | { kind: 'vendored'; line: YarnLine; path: string; version?: string; source: string }
  | { kind: 'registry'; line: YarnLine; range: string; source: string };

export const CLASSIC_PACKAGE = 'yarn';
export const BERRY_PACKAGE = '@yarnpkg/cli-dist';

/** A berry lockfile has a `__metadata:` block; a classic one starts with `# yarn lockfile v1`. */
export function isBerryLockfile(text: string | undefined): boolean {
  return text !== undefined && /^__metadata:/m.test(text);
}

function lineOf(version: string): YarnLine {
  return semver.major(version) >= 2 ? 'berry' : 'classic';
}

export function yarnRequest(i: YarnInputs): YarnRequest {
  const pm = i.packageManager?.name === 'yarn' ? i.packageManager : undefined;
  const vendored = i.berryYarnPath ? { path: i.berryYarnPath, line: 'berry' as const, source: '.yarnrc.yml yarnPath' } : i.classicYarnPath ? { path: i.classicYarnPath, line: 'classic' as const, source: '.yarnrc yarn-path' } : undefined;
  if (vendored) {
    const fromName = /yarn-(\d+\.\d+\.\d+[^/]*?)\.c?js$/.exec(vendored.path)?.[1];
    const version = pm?.version ?? (fromName && semver.valid(fromName) ? fromName : undefined);
    return { kind: 'vendored', ...vendored, line: version ? lineOf(version) : vendored.line, ...(version ? { version } : {}) };
  }
  if (pm) return { kind: 'registry', line: lineOf(pm.version), range: pm.version, source: `package.json packageManager ${pm.raw}` };
  if (i.enginesYarn !== undefined) {
    const raw = String(i.enginesYarn).trim();
    const range = semver.validRange(raw);
    if (range === null) {
      throw new BuildpackError(`package.json engines.yarn ${JSON.stringify(raw)} is not a supported version spec`, { hint: 'write a semver range, e.g. "1.x" or ">=4", or set "packageManager": "yarn@<version>"' });
    }
    const classic = semver.intersects(range, '1.x') && !isBerryLockfile(i.lockfile);
    return { kind: 'registry', line: classic ? 'classic' : 'berry', range: raw, source: 'package.json engines.yarn' };
  }
  if (isBerryLockfile(i.lockfile)) return { kind: 'registry', line: 'berry', range: '>=2', source: 'yarn.lock is a yarn 2+ lockfile: the newest yarn' };
  return { kind: 'registry', line: 'classic', range: '1.x', source: 'yarn.lock is a yarn 1 lockfile: the newest yarn 1.x' };
}

/** A top-level `key: value` of a .yarnrc.yml (plain scalars and quoted strings; enough for yarnPath, nodeLinker). */
export function yarnrcYmlValue(text: string, key: string): string | undefined {
  const m = new RegExp(`^${key}:[ \\t]*(.+?)[ \\t]*$`, 'm').exec(text);
  return m ? m[1]!.replace(/^(["'])(.*)\1$/, '$2') : undefined;
}

/** `yarn-path` of a yarn 1 `.yarnrc` (`yarn-path ".yarn/releases/yarn-1.22.19.cjs"`). */
export function yarnrcValue(text: string, key: string): string | undefined {
  const m = new RegExp(`^${key}[ \\t]+(.+?)[ \\t]*$`, 'm').exec(text);
  return m ? m[1]!.replace(/^(["'])(.*)\1$/, '$2') : undefined;
}
