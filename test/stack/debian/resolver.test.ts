import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PackageIndex, parsePackagesFile } from '../../../src/stack/debian/package-index.js';
import { resolvePackages } from '../../../src/stack/debian/resolver.js';

/** Builds an index from `name version [Field: value]...` lines, one package per line. */
function index(spec: string, suite = 'bookworm'): PackageIndex {
  const text = spec
    .trim()
    .split('\n')
    .map((line) => {
      const [head, ...fields] = line.trim().split(' ; ');
      const [name, version] = head!.split(' ');
      return [`Package: ${name}`, `Version: ${version}`, 'Architecture: amd64', ...fields].join('\n');
    })
    .join('\n\n');
  return new PackageIndex('amd64', [], parsePackagesFile(text, { suite, mirror: 'http://m' }, 'amd64'));
}

const where = { where: 'bookworm (amd64; main)' };
const names = (idx: PackageIndex, req: string[]): string[] => resolvePackages(idx, req, where).map((p) => p.name);

test('resolves Depends and Pre-Depends transitively, sorted by name, without Recommends', () => {
  const idx = index(`
    app 1 ; Depends: libb (>= 2), liba ; Pre-Depends: libpre ; Recommends: extra
    liba 1 ; Depends: libc6
    libb 2.1
    libpre 1 ; Depends: libc6
    libc6 2.36
    extra 1
  `);
  assert.deepEqual(names(idx, ['app']), ['app', 'liba', 'libb', 'libc6', 'libpre']);
});

test('does not pull in Essential or required packages implicitly', () => {
  const idx = index(`
    app 1
    bash 5 ; Essential: yes ; Priority: required
  `);
  assert.deepEqual(names(idx, ['app']), ['app']);
});

test('alternatives: an already selected alternative wins, else the first usable one', () => {
  const idx = index(`
    app 1 ; Depends: mawk | gawk
    tool 1 ; Depends: gawk
    mawk 1
    gawk 1
  `);
  assert.deepEqual(names(idx, ['app']), ['app', 'mawk']);
  // tool selects gawk first (requested first), and gawk then satisfies app's group.
  assert.deepEqual(names(idx, ['tool', 'app']), ['app', 'gawk', 'tool']);
  // An alternative whose candidate is too old is skipped.
  const idx2 = index(`
    app 1 ; Depends: mawk (>= 2) | gawk
    mawk 1
    gawk 1
  `);
  assert.deepEqual(names(idx2, ['app']), ['app', 'gawk']);
});

test('virtual packages: providers by priority then name, explicit choices respected', () => {
  const idx = index(`
    app 1 ; Depends: awk
    mawk 1 ; Provides: awk ; Priority: required
    gawk 1 ; Provides: awk ; Priority: optional
    aawk 1 ; Provides: awk ; Priority: optional
  `);
  assert.deepEqual(names(idx, ['app']), ['app', 'mawk']);
  assert.deepEqual(names(idx, ['gawk', 'app']), ['app', 'gawk']);
  assert.throws(() => resolvePackages(idx, ['awk'], where), /"awk" is a virtual package provided by aawk, gawk, mawk/);
  const single = index(`
    debconf 1 ; Provides: debconf-2.0
  `);
  assert.deepEqual(names(single, ['debconf-2.0']), ['debconf']);
});

test('versioned dependencies on virtual packages need versioned Provides', () => {
  const idx = index(`
    app 1 ; Depends: libfoo-abi (>= 2)
    impl-old 1 ; Provides: libfoo-abi
    impl-new 1 ; Provides: libfoo-abi (= 3)
  `);
  assert.deepEqual(names(idx, ['app']), ['app', 'impl-new']);
});

test('architecture qualifiers: :any and :native resolve, a foreign architecture does not', () => {
  const idx = index(`
    app 1 ; Depends: python3:any, perl:native
    python3 3.11
    perl 5.36
    cross 1 ; Depends: libc6:armhf
    libc6 2.36
  `);
  assert.deepEqual(names(idx, ['app']), ['app', 'perl', 'python3']);
  assert.throws(() => resolvePackages(idx, ['cross'], where), /cross → libc6:armhf not available for amd64/);
});

test('an unknown package is NOT_FOUND naming the index', () => {
  assert.throws(
    () => resolvePackages(index('a 1'), ['nope'], where),
    (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && e.message === 'package "nope" not found in bookworm (amd64; main)',
  );
});

test('an unsatisfiable dependency names the whole chain', () => {
  const idx = index(`
    g++ 12 ; Depends: libstdc++-12-dev
    libstdc++-12-dev 12 ; Depends: libgcc-12-dev, libc6-dev (>= 2.38)
    libgcc-12-dev 12
    libc6-dev 2.36
  `);
  assert.throws(
    () => resolvePackages(idx, ['g++'], where),
    (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && e.message === 'unsatisfiable dependency: g++ → libstdc++-12-dev → libc6-dev (>= 2.38) not found (candidate 2.36)',
  );
  assert.throws(() => resolvePackages(index('a 1 ; Depends: b | c'), ['a'], where), /a → b not found \| c not found/);
});

test('Conflicts and Breaks among selected packages are errors; self-provided conflicts are not', () => {
  const idx = index(`
    a 1 ; Depends: b ; Conflicts: mta ; Provides: mta
    b 1 ; Breaks: c (<< 2)
    c 1
    d 1 ; Conflicts: mta
  `);
  assert.deepEqual(names(idx, ['a']), ['a', 'b']);
  assert.throws(() => resolvePackages(idx, ['a', 'c'], where), /b 1 breaks c 1 \(Breaks: c \(<< 2\)\)/);
  assert.throws(() => resolvePackages(idx, ['a', 'd'], where), /conflicts with a 1/);
});

test('the result is the same whatever order the index was built in', () => {
  const lines = ['app 1 ; Depends: x | y, z', 'x 1 ; Depends: z', 'y 1', 'z 1 ; Depends: y'];
  const a = names(index(lines.join('\n')), ['app']);
  const b = names(index([...lines].reverse().join('\n')), ['app']);
  assert.deepEqual(a, b);
  assert.deepEqual(a, ['app', 'x', 'y', 'z']);
});

test('excluded names satisfy the groups that mention them and are never installed', () => {
  const idx = index(`
    ca-certificates 1 ; Depends: openssl (>= 1.1.1), debconf (>= 0.5) | debconf-2.0
    base-files 1 ; Pre-Depends: awk
    openssl 3 ; Depends: libssl3
    libssl3 3
    debconf 1 ; Provides: debconf-2.0
    mawk 1 ; Provides: awk
  `);
  assert.deepEqual(names(idx, ['ca-certificates', 'base-files']), ['base-files', 'ca-certificates', 'debconf', 'libssl3', 'mawk', 'openssl']);
  const slim = resolvePackages(idx, ['ca-certificates', 'base-files'], { ...where, exclude: ['openssl', 'debconf', 'awk'] });
  assert.deepEqual(slim.map((p) => p.name), ['base-files', 'ca-certificates']);
  assert.throws(() => resolvePackages(idx, ['openssl'], { ...where, exclude: ['openssl'] }), /"openssl" is both requested and excluded/);
});
