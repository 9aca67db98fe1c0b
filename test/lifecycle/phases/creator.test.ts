/**
 * The creator end to end over the bwrap sandbox: detect, restore, build and export a small app, then
 * build it again with nothing changed. The second build restores the cache, reuses every launch layer by
 * diffID (the launch-only layer from the previous image, without its folder), writes no new blob to the
 * store, and gives the same image digest. Changing the app's key rebuilds the layers. Layers exported ahead,
 * while later buildpacks build, give the image and cache a plain export of the same folders gives.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeImage } from '../../../src/oci/copy.js';
import { loadImage } from '../../../src/oci/image.js';
import { openLayoutStore } from '../../../src/oci/store/layout/layout-store.js';
import { validate } from '../../../src/oci/validate.js';
import { openVolumeCache } from '../../../src/lifecycle/cache/volume-cache.js';
import { compileLauncherOnHost } from '../../../src/lifecycle/launcher/compile.js';
import { commitCache, create, type CreateInput } from '../../../src/lifecycle/phases/creator.js';
import { exportImage } from '../../../src/lifecycle/phases/exporter.js';
import { SANDBOX_DIRS } from '../../../src/lifecycle/phases/dirs.js';
import { makeTestImage } from '../../helpers/make-image.js';
import { needTool } from '../../helpers/tools.js';
import { makeWork, order, type Work } from './builder-fixtures.js';

let base: string;
before(async () => {
  const { mkdtemp: mk } = await import('node:fs/promises');
  base = await mk(join((await import('node:os')).tmpdir(), 'cairn-creator-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function build(w: Work, app: string, storeDir: string, cacheDir: string, launcher: string) {
  // A fresh work folder per build, as `cairn build` makes one: only the store and the cache carry over.
  await rm(w.dirs.host.layers, { recursive: true, force: true });
  await rm(w.dirs.host.app, { recursive: true, force: true });
  await mkdir(w.dirs.host.layers, { recursive: true });
  await mkdir(w.dirs.host.app, { recursive: true });
  await writeFile(join(w.dirs.host.app, 'greeting.txt'), app);
  const store = await openLayoutStore(storeDir, { create: true });
  if ((await store.listTags()).indexOf('run:v1') < 0) await makeTestImage(store, 'run:v1', { layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' }]], runtime: { User: '1000:1000' } });
  const cache = await openVolumeCache(cacheDir, { warn: () => undefined });
  const workDir = await mkdtemp(join(base, 'work-'));
  const input: CreateInput = {
    ...w.input,
    order: order(['test/greeter']),
    runImage: { store, ref: 'run:v1', name: 'test/run:v1' },
    previous: { store, ref: 'app:latest', name: 'app' },
    cache,
    launcherPath: launcher,
    launcherInfo: { version: '0.1.0', source: { git: { repository: 'cairn', commit: 'test' } } },
    created: new Date('1980-01-01T00:00:01Z'),
    platform: { os: 'linux', architecture: 'amd64' },
    workDir,
  };
  const r = await create(input);
  await validate(r.image);
  const written = await writeImage(r.image, store, 'app:latest');
  await commitCache(cache, r.exported, (m) => assert.fail(m));
  await rm(workDir, { recursive: true, force: true });
  return { ...r, written, store };
}

test('a rebuild with nothing changed restores the cache, reuses every layer and gives the same digest', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const launcher = join(base, 'launcher');
  await compileLauncherOnHost(launcher);
  const w = await makeWork();
  try {
    assert.deepEqual(w.dirs.sandbox, SANDBOX_DIRS);
    const storeDir = join(base, 'store');
    const cacheDir = join(base, 'cache');
    const first = await build(w, 'world', storeDir, cacheDir, launcher);
    assert.deepEqual(first.detected.group.group.map((g) => g.id), ['test/greeter']);
    assert.equal(first.restored.fromCache + first.restored.metadataOnly, 0);
    assert.ok(first.written.blobsWritten > 0);

    const second = await build(w, 'world', storeDir, cacheDir, launcher);
    assert.equal(second.restored.fromCache, 1, 'tool restored from the cache');
    assert.equal(second.restored.trees.size, 1, 'tool restored from the folder the cache kept, not extracted');
    assert.equal(second.restored.metadataOnly, 1, 'deps restored as metadata only');
    assert.equal(second.exported.reusedLayers, 2, 'both launch layers reused by diffID');
    assert.equal(second.image.digest, first.image.digest, 'same digest');
    assert.equal(second.written.blobsWritten, 0, 'no new blob written to the store');
    assert.equal((await loadImage(second.store, 'app:latest')).digest, first.image.digest);

    // A kept folder that the build changes in place (same key) is a changed layer: the exporter must not
    // take the cached diffID on trust.
    await writeFile(join(w.dirs.host.platform, 'env', 'GREETER_MUTATE'), 'edited');
    const mutated = await build(w, 'world', storeDir, cacheDir, launcher);
    await rm(join(w.dirs.host.platform, 'env', 'GREETER_MUTATE'));
    assert.equal(mutated.restored.trees.size, 1);
    assert.notEqual(mutated.image.digest, first.image.digest, 'the edited layer makes a new image');
    assert.equal(mutated.exported.reusedLayers, 1, 'only deps reused');
    const toolOf = (r: typeof first) => r.exported.cacheLayers.find((l) => l.layer === 'tool')!.diffID;
    assert.notEqual(toolOf(mutated), toolOf(first));
    assert.equal(mutated.image.layers.some((l) => l.diffID === toolOf(mutated)), true);
    const afterEdit = await build(w, 'world', storeDir, cacheDir, launcher);
    assert.equal(afterEdit.restored.trees.size, 1);
    assert.equal(afterEdit.image.digest, mutated.image.digest, 'the edited layer is what the cache kept');

    const third = await build(w, 'changed', storeDir, cacheDir, launcher);
    assert.notEqual(third.image.digest, first.image.digest);
    assert.equal(third.exported.reusedLayers, 0, 'a changed key rebuilds both layers');
  } finally {
    await w.cleanup();
  }
});

test('layers exported while later buildpacks build give the image and cache of a plain export', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const launcher = join(base, 'launcher-ahead');
  await compileLauncherOnHost(launcher);
  const w = await makeWork();
  try {
    const r = await buildKeepingLayers(w, launcher, ['test/greeter', 'test/victim', 'test/observer']);
    assert.ok(r.exportedAhead >= 1, 'the first buildpack\'s layers were exported during the build');
    const plain = await exportImage({
      layersDir: w.dirs.host.layers,
      uid: r.input.uid,
      gid: r.input.gid,
      workDir: await mkdtemp(join(base, 'plain-')),
      appDir: w.dirs.host.app,
      build: r.built,
      runImage: await loadImage(r.store, 'run:v1'),
      runImageRef: { reference: r.analyzed.runImage!.reference, image: 'test/run:v1' },
      launcherPath: launcher,
      launcherInfo: r.input.launcherInfo,
      created: r.input.created,
      platformApi: '0.15',
      warn: (m) => assert.fail(m),
    });
    assert.equal(r.image.digest, plain.image.digest, 'same image');
    assert.deepEqual(r.exported.cacheLayers.map((l) => [l.buildpackId, l.layer, l.diffID]), plain.cacheLayers.map((l) => [l.buildpackId, l.layer, l.diffID]), 'same cache layers');
    assert.deepEqual(r.exported.cacheMetadata, plain.cacheMetadata);
  } finally {
    await w.cleanup();
  }
});

/** One create() of a fresh app, leaving `<layers>` as the build left it (no cache commit). */
async function buildKeepingLayers(w: Work, launcher: string, group: string[]) {
  await writeFile(join(w.dirs.host.app, 'greeting.txt'), 'world');
  const store = await openLayoutStore(join(base, 'store-ahead'), { create: true });
  await makeTestImage(store, 'run:v1', { layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' }]], runtime: { User: '1000:1000' } });
  const input: CreateInput = {
    ...w.input,
    order: order(group),
    runImage: { store, ref: 'run:v1', name: 'test/run:v1' },
    cache: await openVolumeCache(join(base, 'cache-ahead'), { warn: () => undefined }),
    launcherPath: launcher,
    launcherInfo: { version: '0.1.0', source: { git: { repository: 'cairn', commit: 'test' } } },
    created: new Date('1980-01-01T00:00:01Z'),
    platform: { os: 'linux', architecture: 'amd64' },
    workDir: await mkdtemp(join(base, 'work-')),
  };
  return { ...(await create(input)), store, input };
}

test('a build-time secret (platform env var, binding) reaches no layer, config, label or cache', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const launcher = join(base, 'launcher-secret');
  await compileLauncherOnHost(launcher);
  const w = await makeWork();
  try {
    const secret = 'S3CRET-7f1c9b2e-never-in-an-image';
    await writeFile(join(w.dirs.host.platform, 'env', 'NPM_TOKEN'), secret);
    await mkdir(join(w.dirs.host.platform, 'bindings', 'registry'), { recursive: true });
    await writeFile(join(w.dirs.host.platform, 'bindings', 'registry', 'password'), secret);
    const storeDir = join(base, 'store-secret');
    const cacheDir = join(base, 'cache-secret');
    const r = await build(w, 'world', storeDir, cacheDir, launcher);
    const { gunzipSync } = await import('node:zlib');
    const { readdir } = await import('node:fs/promises');
    for (const layer of (await loadImage(r.store, 'app:latest')).layers) {
      const chunks: Buffer[] = [];
      for await (const c of await layer.compressed()) chunks.push(c as Buffer);
      const tar = gunzipSync(Buffer.concat(chunks));
      assert.equal(tar.includes(secret), false, `layer ${layer.digest} holds the secret`);
    }
    assert.equal(r.image.rawConfig.includes(secret), false, 'the config (env, labels) holds the secret');
    assert.equal(r.image.rawManifest.includes(secret), false);
    const walk = async (dir: string): Promise<string[]> => (await readdir(dir, { withFileTypes: true, recursive: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    for (const f of await walk(cacheDir)) {
      const { readFile: rf } = await import('node:fs/promises');
      assert.equal((await rf(f)).includes(secret), false, `cache file ${f} holds the secret`);
    }
    assert.ok((await walk(cacheDir)).length > 0, 'the cache was written');
  } finally {
    await w.cleanup();
  }
});
