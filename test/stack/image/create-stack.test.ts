/**
 * Stack images offline: a signed fake archive on 127.0.0.1 → lock → build and run images. The same lock
 * composed twice in different folders gives the same image digests; a warm layer cache composes nothing and
 * fetches nothing; the build image refuses to be composed without a way to configure it; a tampered package
 * fails naming it, caching nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validate } from '../../../src/oci/validate.js';
import { parseStackConfig, type StackConfig } from '../../../src/stack/config.js';
import { ContentCache } from '../../../src/stack/debian/cache.js';
import { type Keyring, loadKeyring } from '../../../src/stack/debian/keyring.js';
import { createStackImages } from '../../../src/stack/image/create-stack.js';
import { LayerCache } from '../../../src/stack/image/layer-cache.js';
import type { StackLock } from '../../../src/stack/lock.js';
import { lockStack } from '../../../src/stack/lock-stack.js';
import type { RootTree } from '../../../src/stack/root-tree.js';
import { type DebSpec, FakeMirror, makeSigningKey } from '../helpers/fake-debian.js';

const now = new Date('2023-06-12T00:00:00Z');
const DEBS: DebSpec[] = [
  { name: 'libc6', version: '2.36-9', files: [{ path: './lib/x86_64-linux-gnu/libc.so.6', data: 'ELF libc', mode: 0o755 }] },
  {
    name: 'base-files', version: '12.4', fields: { Essential: 'yes' },
    files: [{ path: './usr/lib/os-release', data: 'ID=debian\nVERSION_ID="12"\n' }, { path: './etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' }],
  },
  { name: 'tzdata', version: '2023c', files: [{ path: './usr/share/zoneinfo/Etc/UTC', data: 'TZif2 UTC' }] },
  { name: 'dash', version: '0.5.12', fields: { Essential: 'yes' }, files: [{ path: './bin/dash', data: 'ELF dash', mode: 0o755 }], controlFiles: { postinst: '#!/bin/sh\nexit 0\n' } },
  { name: 'dpkg', version: '1.21.22', fields: { Essential: 'yes' }, files: [{ path: './usr/bin/dpkg', data: 'ELF dpkg', mode: 0o755 }] },
];

let keyring: Keyring;
let cleanupKey: () => Promise<void>;
let mirror: FakeMirror;
let dir: string;
let config: StackConfig;
let lock: StackLock;

before(async () => {
  const k = await makeSigningKey();
  cleanupKey = k.cleanup;
  keyring = await loadKeyring(k.keysDir);
  mirror = new FakeMirror(k.privateKey);
  await mirror.addSuite('bookworm', { debs: DEBS, date: 'Sat, 10 Jun 2023 09:00:00 UTC' });
  const url = await mirror.start();
  dir = await mkdtemp(join(tmpdir(), 'cairn-stack-images-'));
  config = parseStackConfig(`
id = "example.stacks.fake"
updates = false
security = false
[mirrors]
debian = "${url}"
[build]
essential = true
[run]
packages = ["libc6", "tzdata", "base-files"]
`, { what: 'stack.toml', baseDir: dir });
  lock = (await lockStack({ config, keyring, cache: new ContentCache(join(dir, 'lock-cache')), fetch, now })).lock;
});
after(async () => {
  await mirror.stop();
  await cleanupKey();
  await rm(dir, { recursive: true, force: true });
});

/** A run in its own folders (deb cache, layer cache, work folder), as on another machine. */
async function run(name: string, configured: RootTree[], layers?: LayerCache) {
  const base = await mkdtemp(join(dir, `${name}-`));
  const cache = layers ?? new LayerCache(join(base, 'layers'));
  const images = await createStackImages({
    config, lock, fetch, debs: new ContentCache(join(base, 'debs')), layers: cache, workDir: base,
    configure: async (tree) => void configured.push(tree),
  });
  return { images, cache };
}

test('the same lock in two folders gives the same build and run image digests', async () => {
  const configured: RootTree[] = [];
  const a = await run('a', configured);
  const b = await run('b', configured);
  assert.equal(configured.length, 2, 'the build image (dash has a postinst) is configured once per cold run');
  assert.equal(a.images.build.digest, b.images.build.digest);
  assert.equal(a.images.run.digest, b.images.run.digest);
  assert.notEqual(a.images.build.digest, a.images.run.digest);
  await validate(a.images.build);
  await validate(a.images.run);
  assert.equal(a.images.run.config.created, '2023-06-10T09:00:00Z', 'created is the Release date');
  assert.equal(a.images.run.config.config!.Labels!['io.buildpacks.base.released'], '2023-06-10T09:00:00Z');
  assert.deepEqual(a.images.cached, { build: false, run: false });

  // Warm: same layer cache, nothing composed or fetched, same digests.
  mirror.requests.length = 0;
  const warm = await run('warm', configured, a.cache);
  assert.deepEqual(warm.images.cached, { build: true, run: true });
  assert.equal(configured.length, 2);
  assert.deepEqual(mirror.requests, []);
  assert.equal(warm.images.build.digest, a.images.build.digest);
});

test('composing the build image without a way to configure it fails up front', async () => {
  mirror.requests.length = 0;
  const base = await mkdtemp(join(dir, 'noroot-'));
  await assert.rejects(
    createStackImages({ config, lock, fetch, debs: new ContentCache(join(base, 'debs')), layers: new LayerCache(join(base, 'layers')), workDir: base, configureUnavailable: 'cairn is not running as root' }),
    (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && /needs root \(cairn is not running as root\)/.test(e.message),
  );
  assert.deepEqual(mirror.requests, [], 'nothing was downloaded');
});

test('a package whose bytes do not match the lock fails naming it, and nothing is cached', async () => {
  const p = lock.run.packages.find((x) => x.name === 'tzdata')!;
  const good = mirror.get(p.filename)!;
  mirror.put(p.filename, Buffer.concat([good, Buffer.from('tampered')]));
  try {
    const base = await mkdtemp(join(dir, 'tampered-'));
    await assert.rejects(
      createStackImages({ config, lock, fetch, debs: new ContentCache(join(base, 'debs')), layers: new LayerCache(join(base, 'layers')), workDir: base, configure: async () => undefined }),
      /tzdata/,
    );
    const cached = await readdir(join(base, 'layers')).catch(() => []);
    assert.deepEqual(cached.filter((f) => f.endsWith('.json')), [], 'no layer was recorded');
  } finally {
    mirror.put(p.filename, good);
  }
});
