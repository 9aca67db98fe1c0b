import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type * as openpgp from 'openpgp';
import { ContentCache } from '../../../src/stack/debian/cache.js';
import { type Keyring, loadKeyring } from '../../../src/stack/debian/keyring.js';
import { loadPackageIndex, PackageIndex, parsePackagesFile } from '../../../src/stack/debian/package-index.js';
import { FakeMirror, makeSigningKey } from '../helpers/fake-debian.js';

const SRC = { suite: 'bookworm', mirror: 'http://m' };

const PACKAGES = `Package: libc6
Version: 2.36-9
Architecture: amd64
Provides: libc6-x (= 2.36), c-library
Depends: libgcc-s1
Filename: pool/main/g/glibc/libc6_2.36-9_amd64.deb
Size: 100
SHA256: ${'1'.repeat(64)}

Package: libc6
Version: 2.36-10
Architecture: amd64
Filename: pool/main/g/glibc/libc6_2.36-10_amd64.deb
Size: 101
SHA256: ${'2'.repeat(64)}

Package: foreign
Version: 1
Architecture: arm64

Package: docs
Version: 1
Architecture: all
Essential: yes
Provides: documentation,
 manuals
`;

test('parsePackagesFile keeps this architecture and all, with Provides and Essential', () => {
  const pkgs = parsePackagesFile(PACKAGES, SRC, 'amd64');
  assert.deepEqual(pkgs.map((p) => `${p.name} ${p.version} ${p.arch}`), ['libc6 2.36-9 amd64', 'libc6 2.36-10 amd64', 'docs 1 all']);
  assert.deepEqual(pkgs[0]!.provides, [{ name: 'libc6-x', version: '2.36' }, { name: 'c-library' }]);
  assert.deepEqual(pkgs[2]!.provides.map((p) => p.name), ['documentation', 'manuals']);
  assert.equal(pkgs[2]!.essential, true);
  assert.equal(pkgs[0]!.filename, 'pool/main/g/glibc/libc6_2.36-9_amd64.deb');
  assert.equal(pkgs[0]!.size, 100);
  assert.deepEqual(pkgs[0]!.relations('Depends'), [[{ name: 'libgcc-s1' }]]);
});

test('parsePackagesFile rejects paragraphs without identity', () => {
  assert.throws(() => parsePackagesFile('Package: x\nArchitecture: amd64\n', SRC, 'amd64'), /lacks Package, Version or Architecture/);
});

test('PackageIndex keeps the highest version; a later suite wins only when strictly higher', () => {
  const base = parsePackagesFile('Package: a\nVersion: 1.0\nArchitecture: amd64\n\nPackage: b\nVersion: 2.0\nArchitecture: all\n', SRC, 'amd64');
  const sec = parsePackagesFile('Package: a\nVersion: 1.0+deb12u1\nArchitecture: amd64\n\nPackage: b\nVersion: 2.0\nArchitecture: all\n', { suite: 'bookworm-security', mirror: 'http://s' }, 'amd64');
  const idx = new PackageIndex('amd64', [], [...base, ...sec]);
  assert.equal(idx.get('a')?.version, '1.0+deb12u1');
  assert.equal(idx.get('a')?.source.suite, 'bookworm-security');
  assert.equal(idx.get('b')?.source.suite, 'bookworm');
});

test('providers honour versioned Provides for versioned dependencies', () => {
  const idx = new PackageIndex('amd64', [], parsePackagesFile(PACKAGES, SRC, 'amd64'));
  // The candidate is libc6 2.36-10, which provides nothing; docs provides documentation.
  assert.deepEqual(idx.providers('documentation').map((p) => p.name), ['docs']);
  assert.deepEqual(idx.providers('documentation', { op: '>=', version: '1' }), [], 'an unversioned Provides never satisfies a versioned dependency');
  const idx2 = new PackageIndex('amd64', [], parsePackagesFile(PACKAGES.split('\n\n')[0]!, SRC, 'amd64'));
  assert.deepEqual(idx2.providers('libc6-x', { op: '>=', version: '2.30' }).map((p) => p.name), ['libc6']);
  assert.deepEqual(idx2.providers('libc6-x', { op: '>>', version: '2.36' }), []);
  assert.deepEqual(idx.essential().map((p) => p.name), ['docs']);
});

let key: openpgp.PrivateKey;
let keyring: Keyring;
let cleanupKey: () => Promise<void>;
let dir: string;

before(async () => {
  const k = await makeSigningKey();
  key = k.privateKey;
  cleanupKey = k.cleanup;
  keyring = await loadKeyring(k.keysDir);
  dir = await mkdtemp(join(tmpdir(), 'cairn-index-'));
});
after(async () => {
  await cleanupKey();
  await rm(dir, { recursive: true, force: true });
});

const now = new Date('2023-06-12T00:00:00Z');

test('loadPackageIndex verifies, fetches by hash, caches and merges suites', async () => {
  const mirror = new FakeMirror(key);
  await mirror.addSuite('bookworm', { debs: [{ name: 'hello', version: '1.0-1' }, { name: 'libfoo', version: '2.0-1' }] });
  await mirror.addSuite('bookworm-security', { debs: [{ name: 'libfoo', version: '2.0-1+deb12u1' }] });
  const url = await mirror.start();
  try {
    const cache = new ContentCache(join(dir, 'c1'));
    const sources = [{ suite: 'bookworm', mirror: url }, { suite: 'bookworm-security', mirror: url }];
    const idx = await loadPackageIndex({ sources, arch: 'amd64', components: ['main'], keyring, cache, fetch, now });
    assert.equal(idx.get('libfoo')?.version, '2.0-1+deb12u1');
    assert.equal(idx.get('hello')?.filename, 'pool/main/h/hello/hello_1.0-1_amd64.deb');
    assert.equal(idx.snapshots.length, 2);
    assert.equal(idx.snapshots[0]!.date, 'Sat, 10 Jun 2023 09:00:00 UTC');
    assert.match(idx.snapshots[0]!.indexes['main/binary-amd64/Packages']!, /^[0-9a-f]{64}$/);
    assert.ok(mirror.requests.some((r) => r.includes('/by-hash/SHA256/')), 'indexes are fetched by hash');
    // Warm: only the InRelease files are fetched again.
    mirror.requests.length = 0;
    await loadPackageIndex({ sources, arch: 'amd64', components: ['main'], keyring, cache, fetch, now });
    assert.deepEqual(mirror.requests.sort(), ['dists/bookworm-security/InRelease', 'dists/bookworm/InRelease']);
  } finally {
    await mirror.stop();
  }
});

test('an index that does not match the signed Release fails with DIGEST_MISMATCH naming the URL', async () => {
  const mirror = new FakeMirror(key);
  await mirror.addSuite('bookworm', { debs: [{ name: 'hello', version: '1.0-1' }], corruptPackages: true });
  const url = await mirror.start();
  try {
    await assert.rejects(
      loadPackageIndex({ sources: [{ suite: 'bookworm', mirror: url }], arch: 'amd64', components: ['main'], keyring, cache: new ContentCache(join(dir, 'c2')), fetch, now }),
      (e: Error & { code?: string }) => e.code === 'DIGEST_MISMATCH' && e.message.includes(`${url}/dists/bookworm/main/binary-amd64/`) && e.message.includes('signed Release'),
    );
  } finally {
    await mirror.stop();
  }
});

test('a tampered InRelease is refused', async () => {
  const mirror = new FakeMirror(key);
  await mirror.addSuite('bookworm', { debs: [{ name: 'hello', version: '1.0-1' }] });
  mirror.put('dists/bookworm/InRelease', Buffer.from(mirror.get('dists/bookworm/InRelease')!.toString().replace('Origin: Debian', 'Origin: Evil')));
  const url = await mirror.start();
  try {
    await assert.rejects(
      loadPackageIndex({ sources: [{ suite: 'bookworm', mirror: url }], arch: 'amd64', components: ['main'], keyring, cache: new ContentCache(join(dir, 'c3')), fetch, now }),
      new RegExp(`bad signature on ${url.replace(/[.]/g, '\\.')}/dists/bookworm/InRelease`),
    );
  } finally {
    await mirror.stop();
  }
});

test('an unreachable mirror fails with UNREACHABLE naming the URL', async () => {
  const mirror = new FakeMirror(key);
  const url = await mirror.start();
  await mirror.stop(); // nothing listens on this port any more
  await assert.rejects(
    loadPackageIndex({ sources: [{ suite: 'bookworm', mirror: url }], arch: 'amd64', components: ['main'], keyring, cache: new ContentCache(join(dir, 'c4')), fetch, now }),
    (e: Error & { code?: string }) => e.code === 'UNREACHABLE' && e.message.startsWith(`cannot reach ${url}/dists/bookworm/InRelease`),
  );
});

test('a missing suite or component fails with NOT_FOUND', async () => {
  const mirror = new FakeMirror(key);
  await mirror.addSuite('bookworm', { debs: [] });
  const url = await mirror.start();
  try {
    const base = { arch: 'amd64', keyring, cache: new ContentCache(join(dir, 'c5')), fetch, now };
    await assert.rejects(loadPackageIndex({ ...base, sources: [{ suite: 'trixie', mirror: url }], components: ['main'] }), /dists\/trixie\/InRelease not found \(HTTP 404\)/);
    await assert.rejects(loadPackageIndex({ ...base, sources: [{ suite: 'bookworm', mirror: url }], components: ['contrib'] }), /lists no contrib\/binary-amd64\/Packages index/);
  } finally {
    await mirror.stop();
  }
});
