/**
 * The whole pipeline offline: a signed fake archive on 127.0.0.1 → lockStack → composeImage for the run
 * and build images, and the lock-only path.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type * as openpgp from 'openpgp';
import { composeImage, composeKey } from '../../src/stack/compose.js';
import { parseStackConfig, type StackConfig } from '../../src/stack/config.js';
import { ContentCache } from '../../src/stack/debian/cache.js';
import { type Keyring, loadKeyring } from '../../src/stack/debian/keyring.js';
import { formatStackLock, parseStackLock } from '../../src/stack/lock.js';
import { lockStack } from '../../src/stack/lock-stack.js';
import type { RootTree } from '../../src/stack/root-tree.js';
import { type DebSpec, FakeMirror, makeSigningKey } from './helpers/fake-debian.js';

const now = new Date('2023-06-12T00:00:00Z');

const DEBS: DebSpec[] = [
  {
    name: 'libc6',
    version: '2.36-9',
    fields: { 'Multi-Arch': 'same', Depends: 'libgcc-s1' },
    files: [
      { path: './lib/x86_64-linux-gnu/libc.so.6', data: 'ELF libc', mode: 0o755 },
      { path: './lib64/ld-linux-x86-64.so.2', type: 'symlink', linkname: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
      { path: './etc/ld.so.conf.d/x86_64-linux-gnu.conf', data: '/usr/lib/x86_64-linux-gnu\n' },
    ],
    controlFiles: { postinst: '#!/bin/sh\nexit 0\n', conffiles: '/etc/ld.so.conf.d/x86_64-linux-gnu.conf\n', md5sums: '0123  lib/x86_64-linux-gnu/libc.so.6\n' },
  },
  { name: 'libgcc-s1', version: '12.2.0-14', fields: { 'Multi-Arch': 'same' }, files: [{ path: './lib/x86_64-linux-gnu/libgcc_s.so.1', data: 'ELF gcc' }] },
  {
    name: 'base-files',
    version: '12.4',
    fields: { Essential: 'yes' },
    files: [
      { path: './usr/lib/os-release', data: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' },
      { path: './etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
      { path: './tmp/', type: 'directory', mode: 0o1777 },
    ],
  },
  {
    name: 'ca-certificates',
    version: '20230311',
    fields: { Depends: 'openssl (>= 1.1.1), debconf (>= 0.5) | debconf-2.0' },
    files: [
      { path: './usr/share/ca-certificates/mozilla/Root_B.crt', data: '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n' },
      { path: './usr/share/ca-certificates/mozilla/Root_A.crt', data: '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----' },
    ],
  },
  { name: 'openssl', version: '3.0.9', files: [{ path: './usr/bin/openssl', data: 'ELF openssl', mode: 0o755 }] },
  { name: 'cdebconf', version: '0.270', fields: { Provides: 'debconf-2.0', Priority: 'optional' } },
  { name: 'debconf', version: '1.5.82', fields: { Provides: 'debconf-2.0', Priority: 'required' }, controlFiles: { postinst: '#!/bin/sh\n' } },
  { name: 'tzdata', version: '2023c', files: [{ path: './usr/share/zoneinfo/Etc/UTC', data: 'TZif2 UTC' }] },
  { name: 'dash', version: '0.5.12', fields: { Essential: 'yes' }, files: [{ path: './bin/dash', data: 'ELF dash', mode: 0o755 }, { path: './bin/sh', type: 'symlink', linkname: 'dash' }] },
  { name: 'dpkg', version: '1.21.22', fields: { Essential: 'yes' }, files: [{ path: './usr/bin/dpkg', data: 'ELF dpkg', mode: 0o755 }] },
];

let key: openpgp.PrivateKey;
let keyring: Keyring;
let cleanupKey: () => Promise<void>;
let mirror: FakeMirror;
let dir: string;
let config: StackConfig;

before(async () => {
  const k = await makeSigningKey();
  key = k.privateKey;
  cleanupKey = k.cleanup;
  keyring = await loadKeyring(k.keysDir);
  mirror = new FakeMirror(key);
  await mirror.addSuite('bookworm', { debs: DEBS.filter((d) => d.name !== 'libc6') });
  await mirror.addSuite('bookworm-updates', { debs: [] });
  await mirror.addSuite('bookworm-security', { debs: [DEBS.find((d) => d.name === 'libc6')!] });
  const url = await mirror.start();
  dir = await mkdtemp(join(tmpdir(), 'cairn-compose-'));
  config = parseStackConfig(
    `
[mirrors]
debian = "${url}"
security = "${url}"
[build]
essential = true
packages = ["ca-certificates"]
[run]
packages = ["libc6", "ca-certificates", "tzdata", "base-files"]
[[run.files]]
path = "/etc/motd"
content = "welcome\\n"
mode = 0o640
`,
    { what: 'stack.toml', baseDir: dir },
  );
});
after(async () => {
  await mirror.stop();
  await cleanupKey();
  await rm(dir, { recursive: true, force: true });
});

const cacheIn = (name: string): ContentCache => new ContentCache(join(dir, name));

test('lockStack resolves both images against the signed index, deterministically', async () => {
  const cache = cacheIn('cache-a');
  const a = await lockStack({ config, keyring, cache, fetch, now });
  assert.equal(a.resolved, true);
  assert.deepEqual(a.lock.run.packages.map((p) => `${p.name} ${p.version} ${p.suite}`), [
    'base-files 12.4 bookworm',
    'ca-certificates 20230311 bookworm',
    'debconf 1.5.82 bookworm',
    'libc6 2.36-9 bookworm-security',
    'libgcc-s1 12.2.0-14 bookworm',
    'openssl 3.0.9 bookworm',
    'tzdata 2023c bookworm',
  ]);
  assert.deepEqual(a.lock.build.packages.map((p) => p.name), ['base-files', 'ca-certificates', 'dash', 'debconf', 'dpkg', 'openssl'], 'essential packages are added to the build image only');
  assert.deepEqual(a.lock.sources.map((s) => s.suite), ['bookworm', 'bookworm-updates', 'bookworm-security']);
  const b = await lockStack({ config, keyring, cache: cacheIn('cache-b'), fetch, now });
  assert.equal(formatStackLock(b.lock), formatStackLock(a.lock), 'same index → same lock bytes');
  // A matching lock is used as it is, without touching the network.
  mirror.requests.length = 0;
  const c = await lockStack({ config, lock: parseStackLock(formatStackLock(a.lock), 'stack.lock'), keyring, cache, fetch, now });
  assert.equal(c.resolved, false);
  assert.deepEqual(mirror.requests, []);
  // A lock that no longer matches stack.toml needs --update.
  const changed = { ...config, run: { ...config.run, packages: [...config.run.packages, 'dash'] } };
  await assert.rejects(lockStack({ config: changed, lock: a.lock, keyring, cache, fetch, now }), /stack.lock does not match stack.toml: run.packages changed/);
  const updated = await lockStack({ config: changed, lock: a.lock, update: true, keyring, cache, fetch, now });
  assert.ok(updated.lock.run.packages.some((p) => p.name === 'dash'));
});

async function manifest(tree: RootTree): Promise<string> {
  const lines: string[] = [];
  for (const e of tree.entries()) {
    const content = e.kind === 'file' ? createHash('sha256').update(await readFile(tree.hostPath(e.path))).digest('hex') : '';
    lines.push(`${e.path} ${e.kind} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.target ?? ''} ${content}`);
  }
  return lines.join('\n');
}

test('composeImage builds the run image: merged-/usr, users, CA bundle, zone, status.d, extra files', async () => {
  const { lock } = await lockStack({ config, keyring, cache: cacheIn('cache-run'), fetch, now });
  const root = join(dir, 'run-root');
  const warnings: string[] = [];
  const r = await composeImage({ config, lock, image: 'run', root, cache: cacheIn('cache-run'), fetch, warn: (m) => warnings.push(m), workers: 2 });
  const read = (p: string): Promise<string> => readFile(join(root, p), 'utf8');
  assert.deepEqual(warnings, []);
  assert.equal(await read('usr/lib/x86_64-linux-gnu/libc.so.6'), 'ELF libc');
  assert.equal(await readlink(join(root, 'lib')), 'usr/lib');
  assert.equal(await readlink(join(root, 'usr/lib64/ld-linux-x86-64.so.2')), '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
  assert.match(await read('etc/passwd'), /^cnb:x:1000:1000:CNB user:\/home\/cnb:\/bin\/sh$/m);
  assert.equal(await read('etc/ssl/certs/ca-certificates.crt'), '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n');
  assert.equal(r.certificates, 2);
  assert.equal(await readlink(join(root, 'etc/localtime')), '/usr/share/zoneinfo/Etc/UTC');
  assert.equal(((await stat(join(root, 'tmp'))).mode & 0o7777), 0o1777);
  assert.match(await read('var/lib/dpkg/status.d/libc6'), /^Package: libc6\nVersion: 2.36-9\n/);
  assert.equal(await read('var/lib/dpkg/status.d/libc6.md5sums'), '0123  lib/x86_64-linux-gnu/libc.so.6\n');
  await assert.rejects(stat(join(root, 'var/lib/dpkg/status')), 'no dpkg database in the run image');
  assert.equal(await read('etc/motd'), 'welcome\n');
  assert.equal(r.tree.entry('etc/motd')?.mode, 0o640);
  assert.deepEqual(r.needsConfigure, ['debconf', 'libc6']);
  assert.deepEqual(r.packages.map((p) => p.name), lock.run.packages.map((p) => p.name));

  // Same lock, other folder and cache, lock only: the same tree, and only pool files are fetched.
  mirror.requests.length = 0;
  const again = await composeImage({ config, lock: parseStackLock(formatStackLock(lock), 'stack.lock'), image: 'run', root: join(dir, 'run-root-2'), cache: cacheIn('cache-run-2'), fetch, workers: 1 });
  assert.ok(mirror.requests.length > 0 && mirror.requests.every((p) => p.startsWith('pool/')), `only .deb downloads: ${mirror.requests.join(', ')}`);
  assert.equal(await manifest(again.tree), await manifest(r.tree));
});

test('composeImage builds the build image with the dpkg database', async () => {
  const { lock } = await lockStack({ config, keyring, cache: cacheIn('cache-build'), fetch, now });
  const root = join(dir, 'build-root');
  const r = await composeImage({ config, lock, image: 'build', root, cache: cacheIn('cache-build'), fetch, dpkgState: 'unpacked' });
  const status = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8');
  assert.deepEqual(status.split('\n').filter((l) => l.startsWith('Package:')), ['Package: base-files', 'Package: ca-certificates', 'Package: dash', 'Package: debconf', 'Package: dpkg', 'Package: openssl']);
  assert.match(status, /Package: debconf\nStatus: install ok unpacked\n/);
  assert.match(status, /Package: dash\nStatus: install ok installed\n/);
  assert.equal(await readFile(join(root, 'var/lib/dpkg/info/debconf.postinst'), 'utf8'), '#!/bin/sh\n');
  assert.equal(await readlink(join(root, 'usr/bin/sh')), 'dash');
  await assert.rejects(stat(join(root, 'var/lib/dpkg/status.d')));
  assert.deepEqual(r.needsConfigure, ['debconf']);
});

test('a .deb that does not match the lock fails with DIGEST_MISMATCH naming its URL, and nothing is cached', async () => {
  const { lock } = await lockStack({ config, keyring, cache: cacheIn('cache-bad'), fetch, now });
  const tz = lock.run.packages.find((p) => p.name === 'tzdata')!;
  const original = mirror.get(tz.filename)!;
  mirror.put(tz.filename, Buffer.concat([original.subarray(0, original.length - 1), Buffer.from([original[original.length - 1]! ^ 1])]));
  try {
    await assert.rejects(
      composeImage({ config, lock, image: 'run', root: join(dir, 'bad-root'), cache: cacheIn('cache-bad'), fetch }),
      (e: Error & { code?: string }) => e.code === 'DIGEST_MISMATCH' && e.message.startsWith(`${mirror.url}/${tz.filename}`),
    );
    assert.equal(await cacheIn('cache-bad').has(tz.sha256), false);
  } finally {
    mirror.put(tz.filename, original);
  }
});

test('unknown and unsatisfiable packages are reported by lockStack', async () => {
  const bad = { ...config, run: { ...config.run, packages: ['no-such-package'] } };
  await assert.rejects(lockStack({ config: bad, keyring, cache: cacheIn('cache-x'), fetch, now }), /package "no-such-package" not found in bookworm, bookworm-updates, bookworm-security \(amd64; main\)/);
});

test('composeKey changes with what shapes the tree and only with that', async () => {
  const { lock } = await lockStack({ config, keyring, cache: cacheIn('cache-key'), fetch, now });
  const read = async (p: string): Promise<Buffer> => Buffer.from(`contents of ${p}`);
  const key = await composeKey(config, lock, 'run', 'installed', read);
  assert.match(key, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await composeKey(config, parseStackLock(formatStackLock(lock), 'l'), 'run', 'installed', read), key);
  assert.equal(await composeKey({ ...config, mirrors: { debian: 'http://elsewhere', security: 'http://elsewhere' } }, lock, 'run', 'installed', read), key, 'mirrors do not count');
  assert.equal(await composeKey(config, lock, 'run', 'unpacked', read), key, 'the dpkg state only matters for the build image');
  assert.notEqual(await composeKey(config, lock, 'build', 'installed', read), await composeKey(config, lock, 'build', 'unpacked', read));
  assert.notEqual(await composeKey({ ...config, user: { ...config.user, uid: 1001 } }, lock, 'run', 'installed', read), key);
  assert.notEqual(await composeKey({ ...config, timezone: 'Europe/Paris' }, lock, 'run', 'installed', read), key);
  const files = [{ path: '/etc/motd', mode: 0o640, uid: 0, gid: 0, content: 'other\n' }];
  assert.notEqual(await composeKey({ ...config, run: { ...config.run, files } }, lock, 'run', 'installed', read), key);
  const bumped = { ...lock, run: { ...lock.run, packages: lock.run.packages.map((p) => (p.name === 'tzdata' ? { ...p, sha256: 'f'.repeat(64) } : p)) } };
  assert.notEqual(await composeKey(config, bumped, 'run', 'installed', read), key);
});
