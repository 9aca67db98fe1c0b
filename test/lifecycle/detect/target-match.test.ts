import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyTargetSatisfied, completeTarget, parseOsRelease, targetSatisfied } from '../../../src/lifecycle/detect/target-match.js';
import type { Target, TargetData } from '../../../src/lifecycle/target.js';

const t = (os: string, arch: string, variant = '', distros: [string, string][] = []): Target => ({ os, arch, variant, distros: distros.map(([name, version]) => ({ name, version })) });
const jammy: TargetData = { os: 'linux', arch: 'amd64', distro: { name: 'ubuntu', version: '22.04' } };
const armV8: TargetData = { os: 'linux', arch: 'arm64', variant: 'v8' };

// [name, base image, buildpack target, satisfied]
const cases: [string, TargetData, Target, boolean][] = [
  ['exact os/arch', jammy, t('linux', 'amd64'), true],
  ['os differs', jammy, t('windows', 'amd64'), false],
  ['arch differs', jammy, t('linux', 'arm64'), false],
  ['empty target arch = any', jammy, t('linux', ''), true],
  ['all wildcards', jammy, t('', ''), true],
  ['empty image arch = any', { os: 'linux', arch: '' }, t('linux', 'arm64'), true],
  ['variant matches', armV8, t('linux', 'arm64', 'v8'), true],
  ['variant differs', armV8, t('linux', 'arm64', 'v7'), false],
  ['variant wildcard on target', armV8, t('linux', 'arm64'), true],
  ['variant wildcard on image', { os: 'linux', arch: 'arm64' }, t('linux', 'arm64', 'v8'), true],
  ['distro matches one of several', jammy, t('linux', 'amd64', '', [['debian', '12'], ['ubuntu', '22.04']]), true],
  ['distro version differs', jammy, t('linux', 'amd64', '', [['ubuntu', '24.04']]), false],
  ['distro version wildcard', jammy, t('linux', 'amd64', '', [['ubuntu', '']]), true],
  ['distro required but image has none', { os: 'linux', arch: 'amd64' }, t('linux', 'amd64', '', [['ubuntu', '22.04']]), false],
  ['no distros = any distro', jammy, t('linux', 'amd64'), true],
];
for (const [name, base, target, want] of cases) {
  test(`target match: ${name}`, () => assert.equal(targetSatisfied(base, target), want));
}

test('any of several targets; empty list matches', () => {
  assert.ok(anyTargetSatisfied(jammy, [t('linux', 'arm64'), t('linux', 'amd64')]));
  assert.ok(!anyTargetSatisfied(jammy, [t('linux', 'arm64')]));
  assert.ok(anyTargetSatisfied(jammy, []));
});

test('/etc/os-release', () => {
  const text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n# comment\n';
  assert.deepEqual(parseOsRelease(text), { name: 'debian', version: '12' });
  assert.deepEqual(parseOsRelease("ID='ubuntu'\nVERSION_ID=\"22.04\"\n"), { name: 'ubuntu', version: '22.04' });
  assert.equal(parseOsRelease('NAME=x\n'), undefined);
  assert.deepEqual(completeTarget({ os: '', arch: 'amd64' }, text), { os: 'linux', arch: 'amd64', distro: { name: 'debian', version: '12' } });
  assert.deepEqual(completeTarget(jammy, text), jammy, 'an image distro is kept');
  assert.deepEqual(completeTarget({ os: 'linux', arch: 'amd64' }, undefined), { os: 'linux', arch: 'amd64' });
});
