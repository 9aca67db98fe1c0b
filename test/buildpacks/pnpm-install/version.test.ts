import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pnpmFailure } from '../../../src/buildpacks/pnpm-install/pnpm-errors.js';
import { lockfileVersion, pnpmRequest } from '../../../src/buildpacks/pnpm-install/version.js';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';
import { parsePackageManager } from '../../../src/buildpacks/sdk/node-project.js';
import { type PackageRelease, pickRelease } from '../../../src/buildpacks/sdk/registry-package.js';

const rel = (version: string, enginesNode?: string): PackageRelease => ({ version, tarball: `https://r/pnpm/-/pnpm-${version}.tgz`, integrity: 'sha512-AA==', ...(enginesNode ? { enginesNode } : {}) });
const RELEASES = [rel('7.33.7', '>=14.6'), rel('8.15.9', '>=16.14'), rel('9.15.9', '>=18.12'), rel('10.0.0-rc.1', '>=18.12'), rel('10.34.9', '>=18.12'), rel('12.21.0', '>=20')];

test('pnpm: packageManager, then engines.pnpm, then the lockfile version, then the newest', () => {
  assert.deepEqual(pnpmRequest({ packageManager: parsePackageManager('pnpm@9.1.0+sha512.x')!, enginesPnpm: '8' }), { range: '9.1.0', source: 'package.json packageManager pnpm@9.1.0+sha512.x' });
  assert.deepEqual(pnpmRequest({ enginesPnpm: '>=8 <10', lockfile: "lockfileVersion: '9.0'\n" }), { range: '>=8 <10', source: 'package.json engines.pnpm' });
  assert.throws(() => pnpmRequest({ enginesPnpm: 'next please' }), (e: unknown) => e instanceof BuildpackError && /engines\.pnpm "next please" is not a supported version spec/.test(e.message));
  assert.equal(pnpmRequest({ lockfile: "lockfileVersion: '6.0'\n" }).range, '8.x');
  assert.equal(pnpmRequest({ lockfile: 'lockfileVersion: 5.4\n' }).range, '7.x');
  assert.equal(pnpmRequest({ lockfile: 'lockfileVersion: 5.3\n' }).range, '6.x');
  assert.deepEqual(pnpmRequest({ lockfile: "lockfileVersion: '9.0'\n" }), { range: '*', source: 'no version given: the newest pnpm' });
  assert.equal(pnpmRequest({ packageManager: parsePackageManager('yarn@4.0.0')! }).range, '*', 'another tool\'s packageManager is not a pnpm version');
  assert.equal(lockfileVersion("settings:\nlockfileVersion: '9.0'\n"), '9.0');
  assert.equal(lockfileVersion(undefined), undefined);
});

test('release choice: exact as asked, ranges to the newest stable release that runs on the Node.js version', () => {
  assert.equal(pickRelease(RELEASES, '*', '20.11.0', 'pnpm').version, '12.21.0');
  assert.equal(pickRelease(RELEASES, '*', '18.20.0', 'pnpm').version, '10.34.9', 'pnpm 12 needs Node.js 20');
  assert.equal(pickRelease(RELEASES, '10', '20.0.0', 'pnpm').version, '10.34.9', 'no prerelease for a range');
  assert.equal(pickRelease(RELEASES, '10.0.0-rc.1', '20.0.0', 'pnpm').version, '10.0.0-rc.1', 'an exact prerelease when asked');
  assert.throws(() => pickRelease(RELEASES, '13', '20.0.0', 'pnpm 13 (engines.pnpm)'), /no release of pnpm 13 \(engines\.pnpm\) exists/);
  assert.throws(() => pickRelease(RELEASES, '12', '18.0.0', 'pnpm 12 (engines.pnpm)'), (e: unknown) => e instanceof BuildpackError && /12\.21\.0 does not run on Node\.js 18\.0\.0 \(its engines\.node is >=20\)/.test(e.message));
});

test('pnpm failures: an out-of-sync lockfile, a missing package, the tail of anything else', () => {
  const sync = pnpmFailure('pnpm install --frozen-lockfile', 1, ' ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile" because pnpm-lock.yaml is not up to date with <ROOT>/package.json\n');
  assert.match(sync.message, /^pnpm-lock\.yaml is out of sync with package\.json/);
  assert.match(sync.hint!, /run `pnpm install` in the project to update pnpm-lock\.yaml/);
  assert.match(pnpmFailure('pnpm install', 1, ' ERR_PNPM_FETCH_404  GET https://r/nope: Not Found - 404').message, /not found in the registry/);
  assert.match(pnpmFailure('pnpm install', 1, ' ERR_PNPM_META_FETCH_FAIL  GET https://r/ms: request to https://r/ms failed, reason: getaddrinfo ENOTFOUND r').message, /cannot reach the registry/);
  assert.equal(pnpmFailure('pnpm install', 7, 'boom').message, '`pnpm install` failed (exit code 7)');
});
