import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  atLeast,
  checkBuildpackApi,
  checkPlatformApi,
  compareApiVersions,
  formatApiVersion,
  isSupersetOf,
  isSupported,
  latestApi,
  parseApiVersion,
  SUPPORTED_BUILDPACK_APIS,
  SUPPORTED_PLATFORM_APIS,
} from '../../src/lifecycle/api.js';
import { LifecycleError } from '../../src/lifecycle/exit-codes.js';
import { isCairnError } from '../../src/oci/errors.js';

test('parses <major>.<minor> and <major> (digest §1)', () => {
  for (const [s, major, minor] of [
    ['0.12', 0, 12],
    ['0.9', 0, 9],
    ['1', 1, 0],
    ['1.0', 1, 0],
    ['2.10', 2, 10],
  ] as const) {
    assert.deepEqual(parseApiVersion(s), { major, minor }, s);
  }
  assert.equal(formatApiVersion(parseApiVersion('1')), '1.0');
});

for (const bad of ['', 'v0.12', '0.12.1', '0.', '.1', '01.2', '0.012', 'a.b', '-1.0', ' 0.1']) {
  test(`rejects API version ${JSON.stringify(bad)}`, () => {
    assert.throws(() => parseApiVersion(bad), (e: unknown) => isCairnError(e, 'INVALID_ARGUMENT'));
  });
}

test('compares numerically, not lexically', () => {
  const v = parseApiVersion;
  assert.equal(compareApiVersions(v('0.9'), v('0.10')), -1);
  assert.equal(compareApiVersions(v('0.10'), v('0.9')), 1);
  assert.equal(compareApiVersions(v('1'), v('1.0')), 0);
  assert.equal(compareApiVersions(v('1.0'), v('0.99')), 1);
  assert.ok(atLeast(v('0.12'), '0.10'));
  assert.ok(!atLeast(v('0.9'), '0.10'));
});

// Reference api/version_test.go IsSupersetOf cases: 0.x only itself; X.n covers X.0..X.n.
for (const [supported, target, want] of [
  ['0.12', '0.12', true],
  ['0.12', '0.11', false],
  ['0.11', '0.12', false],
  ['1.2', '1.1', true],
  ['1.2', '1.2', true],
  ['1.2', '1.3', false],
  ['1.2', '2.0', false],
  ['2.0', '1.9', false],
  ['1', '1.0', true],
] as const) {
  test(`${supported} is ${want ? '' : 'not '}a superset of ${target}`, () => {
    assert.equal(isSupersetOf(parseApiVersion(supported), parseApiVersion(target)), want);
  });
}

test('supported sets: Buildpack 0.10–0.12, Platform 0.13–0.15', () => {
  const b = (s: string) => isSupported(SUPPORTED_BUILDPACK_APIS, parseApiVersion(s));
  const p = (s: string) => isSupported(SUPPORTED_PLATFORM_APIS, parseApiVersion(s));
  assert.deepEqual(['0.9', '0.10', '0.11', '0.12', '0.13', '1.0'].map(b), [false, true, true, true, false, false]);
  assert.deepEqual(['0.12', '0.13', '0.14', '0.15', '0.16'].map(p), [false, true, true, true, false]);
  assert.equal(formatApiVersion(latestApi(SUPPORTED_PLATFORM_APIS)), '0.15');
  assert.equal(formatApiVersion(latestApi(SUPPORTED_BUILDPACK_APIS)), '0.12');
});

test('checkPlatformApi: unset, malformed or unsupported → exit 11', () => {
  assert.deepEqual(checkPlatformApi('0.14', 'detect'), { major: 0, minor: 14 });
  for (const v of [undefined, '', 'x', '0.12', '0.16']) {
    assert.throws(
      () => checkPlatformApi(v, 'analyze'),
      (e: unknown) => {
        assert.ok(e instanceof LifecycleError && e.code === 'INCOMPATIBLE_PLATFORM_API', String(e));
        assert.equal(e.exitCode, 11);
        assert.equal(e.phase, 'analyze');
        assert.match(e.hint ?? '', /0\.13, 0\.14, 0\.15/);
        return true;
      },
      String(v),
    );
  }
});

test('checkBuildpackApi: unsupported → exit 12 naming the buildpack', () => {
  assert.deepEqual(checkBuildpackApi('0.10', { id: 'a/b', version: '1.0.0' }, 'build'), { major: 0, minor: 10 });
  for (const v of ['0.9', '0.13', 'bogus']) {
    assert.throws(
      () => checkBuildpackApi(v, { id: 'a/b', version: '1.0.0' }, 'build'),
      (e: unknown) => {
        assert.ok(e instanceof LifecycleError && e.code === 'INCOMPATIBLE_BUILDPACK_API');
        assert.equal(e.exitCode, 12);
        assert.match(e.message, /^build: .*a\/b@1\.0\.0/);
        return true;
      },
    );
  }
});
