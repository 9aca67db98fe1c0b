import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { compareVersions, parseVersion, satisfiesVersion } from '../../../src/stack/debian/version.js';
import { needTool } from '../../helpers/tools.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

test('parseVersion splits epoch, upstream and revision', () => {
  assert.deepEqual(parseVersion('1:2.36-9+deb12u4'), { epoch: 1, upstream: '2.36', revision: '9+deb12u4' });
  assert.deepEqual(parseVersion('2.36'), { epoch: 0, upstream: '2.36', revision: '' });
  // The revision starts after the last hyphen; the upstream part may hold hyphens then.
  assert.deepEqual(parseVersion('1.2-beta-3'), { epoch: 0, upstream: '1.2-beta', revision: '3' });
  assert.deepEqual(parseVersion('1:2:3-1'), { epoch: 1, upstream: '2:3', revision: '1' });
});

test('parseVersion rejects malformed versions', () => {
  for (const bad of ['', 'a1.0', 'x:1.0', '1.0-', '1.0 2', '1.0-r_1']) {
    assert.throws(() => parseVersion(bad), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && e.message.includes(bad), bad);
  }
});

test('compareVersions follows dpkg ordering on known cases', () => {
  const cases: [string, string, number][] = [
    ['1.0', '1.0', 0],
    ['1.0', '1.0-0', 0],
    ['1.0~rc1', '1.0', -1],
    ['1.0~~', '1.0~~a', -1],
    ['1.0~~a', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['1.0', '1.0a', -1],
    ['1.0a', '1.0+', -1],
    ['1.0+', '1.0.', -1],
    ['1.2.3', '1.2.10', -1],
    ['1:0.1', '2.0', 1],
    ['0:1.0', '1.0', 0],
    ['1.0-1', '1.0-2', -1],
    ['1.0-1', '1.0-1.1', -1],
    ['2.36-9+deb12u10', '2.36-9+deb12u4', 1],
    ['2.36-9', '2.36-9+deb12u1', -1],
    ['007', '7', 0],
    ['1.0-1~bpo1', '1.0-1', -1],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(sign(compareVersions(a, b)), want, `${a} vs ${b}`);
    assert.equal(sign(compareVersions(b, a)), want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
});

test('satisfiesVersion applies each relation operator', () => {
  assert.ok(satisfiesVersion('2.36-9', '>=', '2.36'));
  assert.ok(!satisfiesVersion('2.35', '>=', '2.36'));
  assert.ok(satisfiesVersion('2.35', '<<', '2.36'));
  assert.ok(!satisfiesVersion('2.36', '<<', '2.36'));
  assert.ok(satisfiesVersion('2.36', '<=', '2.36'));
  assert.ok(satisfiesVersion('1:2.36', '>>', '2.37'));
  assert.ok(satisfiesVersion('2.36-0', '=', '2.36'));
  assert.ok(!satisfiesVersion('2.36-1', '=', '2.36'));
});

test('compareVersions agrees with dpkg --compare-versions on generated versions', (t) => {
  if (!needTool(t, 'dpkg')) return;
  // A deterministic generator (LCG) over the characters that matter to the ordering.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const piece = (): string => {
    const alphabet = ['0', '1', '2', '9', '10', '00', 'a', 'b', 'Z', '~', '+', '.', '~rc', 'deb12u'];
    let s = '';
    for (let i = rnd(4); i >= 0; i--) s += alphabet[rnd(alphabet.length)];
    return s;
  };
  const version = (): string => {
    const epoch = rnd(4) === 0 ? `${rnd(3)}:` : '';
    const upstream = `${rnd(10)}${piece()}`;
    const revision = rnd(2) === 0 ? `-${piece() || '0'}` : '';
    return epoch + upstream + revision;
  };
  let checked = 0;
  for (let i = 0; i < 150; i++) {
    const a = version();
    const b = rnd(5) === 0 ? a : version();
    let want: number | undefined;
    for (const [op, result] of [['lt', -1], ['eq', 0], ['gt', 1]] as const) {
      const r = spawnSync('dpkg', ['--compare-versions', a, op, b], { encoding: 'utf8' });
      if (r.stderr.includes('warning') || r.stderr.includes('error')) break;
      if (r.status === 0) want = result;
    }
    if (want === undefined) continue; // dpkg refused one of the versions
    assert.equal(sign(compareVersions(a, b)), want, `${a} vs ${b}`);
    checked++;
  }
  assert.ok(checked > 100, `only ${checked} pairs were checked`);
});
