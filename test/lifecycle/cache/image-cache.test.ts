import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CACHE_METADATA_NAME } from '../../../src/lifecycle/cache/cache.js';
import { openImageCache } from '../../../src/lifecycle/cache/image-cache.js';
import { writeImage } from '../../../src/oci/copy.js';
import { type Digest, digestHex, sha256 } from '../../../src/oci/digest.js';
import { isCairnError } from '../../../src/oci/errors.js';
import { loadImage, makeImage } from '../../../src/oci/image.js';
import { bufferLayer } from '../../../src/oci/layer.js';
import { MediaType } from '../../../src/oci/media-types.js';
import { openLayoutStore } from '../../../src/oci/store/layout/layout-store.js';
import { MemoryStore } from '../../../src/oci/store/memory/memory-store.js';
import type { Store } from '../../../src/oci/store/store.js';
import { makeTestImage } from '../../helpers/make-image.js';
import { metadataOf, readStream, unprivileged, validateCache, warnings, writeTar } from './helpers.js';

const platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-image-cache-'));
  await chmod(root, 0o755);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Delegates to `inner`, recording the blobs putBlob actually wrote. */
function counting(inner: Store): Store & { written: Digest[] } {
  const written: Digest[] = [];
  return Object.assign(Object.create(inner) as Store, {
    name: inner.name,
    written,
    putBlob: async (...args: Parameters<Store['putBlob']>) => {
      const wrote = await inner.putBlob(...args);
      if (wrote) written.push(args[0].digest);
      return wrote;
    },
  });
}

let n = 0;
async function scratch(): Promise<string> {
  const dir = join(root, String(++n));
  await mkdir(dir, { recursive: true });
  return dir;
}

const kinds = {
  layout: async () => openLayoutStore(join(await scratch(), 'layout'), { create: true }),
  memory: async () => new MemoryStore('cache'),
};

for (const [kind, open] of Object.entries(kinds)) {
  test(`${kind}: round trip, and reuse keeps the previous blobs (nothing re-written)`, async () => {
    const store = counting(await open());
    const tars = await scratch();
    const w = warnings();
    const empty = await openImageCache(store, 'cache', { warn: w.warn, platform });
    assert.deepEqual(await empty.metadata(), { buildpacks: [] });
    assert.deepEqual(w.list, [], 'a missing cache image is no warning');

    const a = await writeTar(tars, 'a', [{ path: 'layers/bp/a/f', content: 'a'.repeat(5000) }]);
    const b = await writeTar(tars, 'b', [{ path: 'layers/bp/b/f', content: 'b' }]);
    const w1 = await empty.begin();
    await w1.addLayer(a.diffID, a.path);
    await w1.addLayer(b.diffID, b.path);
    assert.equal(store.written.length, 0, 'nothing is written before commit');
    await w1.commit(metadataOf('bp', '1', { a: a.diffID, b: b.diffID }, { x: 1 }));
    assert.equal(store.written.length, 3, 'two layers and the config');
    assert.deepEqual((await readdir(tars)).sort(), ['a.tar', 'b.tar'], 'the temporary gzip files are gone');

    const image = await loadImage(store, 'cache');
    assert.deepEqual(image.config.rootfs.diff_ids, [a.diffID, b.diffID]);
    assert.deepEqual([image.config.os, image.config.architecture, image.config.variant], ['linux', 'arm64', 'v8']);
    assert.equal(image.manifest.layers[0]!.mediaType, MediaType.OciLayerGzip);
    assert.deepEqual(JSON.parse(image.config.config!.Labels![CACHE_METADATA_NAME]!), metadataOf('bp', '1', { a: a.diffID, b: b.diffID }, { x: 1 }));

    const cache = await openImageCache(store, 'cache', { warn: w.warn, platform });
    const { metadata, layers } = await validateCache(cache, w.list);
    assert.equal(metadata.buildpacks[0]!.layers.a!.sha, a.diffID);
    assert.deepEqual(layers.get(a.diffID), a.bytes);
    assert.deepEqual(layers.get(b.diffID), b.bytes);
    // The object that committed sees its own commit too.
    assert.deepEqual((await validateCache(empty, w.list)).metadata, metadata);

    store.written.length = 0;
    const c = await writeTar(tars, 'c', [{ path: 'layers/bp/c/f', content: 'c' }]);
    const w2 = await cache.begin();
    assert.equal(await w2.reuseLayer(a.diffID), true);
    await w2.addLayer(c.diffID, c.path);
    await w2.commit(metadataOf('bp', '2', { a: a.diffID, c: c.diffID }));
    const second = await loadImage(store, 'cache');
    assert.deepEqual(store.written.sort(), [second.manifest.config.digest, second.manifest.layers[1]!.digest].sort(), 'only the new layer and the config are written');
    assert.equal(second.manifest.layers[0]!.digest, image.manifest.layers[0]!.digest);
    const again = await validateCache(await openImageCache(store, 'cache', { warn: w.warn, platform }), w.list);
    assert.deepEqual([...again.layers.keys()].sort(), [a.diffID, c.diffID].sort());

    // The same tar gzips to the same blob: adding `a` afresh writes nothing new for it.
    store.written.length = 0;
    const w3 = await cache.begin();
    await w3.addLayer(a.diffID, a.path);
    await w3.commit(metadataOf('bp', '3', { a: a.diffID }));
    assert.equal(store.written.length, 1, 'only the config');
    assert.deepEqual(w.list, []);
  });

  test(`${kind}: an empty cache image has one empty layer`, async () => {
    const store = await open();
    const cache = await openImageCache(store, 'c', { warn: () => assert.fail('no warning expected'), platform });
    await (await cache.begin()).commit({ buildpacks: [] });
    const image = await loadImage(store, 'c');
    assert.equal(image.layers.length, 1);
    assert.equal(image.layers[0]!.diffID, sha256(Buffer.alloc(1024)));
    assert.deepEqual(await readStream((await (await openImageCache(store, 'c', { warn: () => undefined, platform })).openLayer(image.layers[0]!.diffID))!), Buffer.alloc(1024));
  });
}

test('abort writes nothing and removes the temporary files; a wrong diffID is refused', async () => {
  const store = counting(new MemoryStore());
  const tars = await scratch();
  const a = await writeTar(tars, 'a', [{ path: 'a', content: 'a' }]);
  const cache = await openImageCache(store, 'cache', { warn: () => undefined, platform, tmpDir: tars });
  const w = await cache.begin();
  await w.addLayer(a.diffID, a.path);
  assert.equal((await readdir(tars)).length, 2);
  await w.abort();
  assert.deepEqual(await readdir(tars), ['a.tar']);
  assert.deepEqual(store.written, []);
  assert.deepEqual(await store.listTags(), []);
  const w2 = await cache.begin();
  await assert.rejects(w2.addLayer(sha256('other'), a.path), (e) => isCairnError(e, 'DIGEST_MISMATCH'));
  assert.deepEqual(await readdir(tars), ['a.tar']);
  await assert.rejects(w2.commit(metadataOf('bp', '1', { a: a.diffID })), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
});

/** A layout store holding a committed cache image with layers `a` and `b`. */
async function layoutWithCache() {
  const dir = join(await scratch(), 'layout');
  const store = await openLayoutStore(dir, { create: true });
  const tars = await scratch();
  const a = await writeTar(tars, 'a', [{ path: 'a', content: 'a'.repeat(3000) }]);
  const b = await writeTar(tars, 'b', [{ path: 'b', content: 'b' }]);
  const cache = await openImageCache(store, 'cache', { warn: () => undefined, platform });
  const w = await cache.begin();
  await w.addLayer(a.diffID, a.path);
  await w.addLayer(b.diffID, b.path);
  await w.commit(metadataOf('bp', '1', { a: a.diffID, b: b.diffID }));
  const image = await loadImage(store, 'cache');
  const blobPath = (i: number) => join(dir, 'blobs', 'sha256', digestHex(image.manifest.layers[i]!.digest));
  return { dir, store, a, b, image, blobPath };
}

// --- corruption: every case is a warning and a miss, never an error ---

test('a garbage or missing label: a warning and an empty cache', async () => {
  const store = new MemoryStore();
  for (const label of ['{{{', '', '{"buildpacks":"x"}']) {
    const img = makeImage({ architecture: 'arm64', os: 'linux', config: { Labels: { [CACHE_METADATA_NAME]: label } }, rootfs: { type: 'layers', diff_ids: [] } }, []);
    await writeImage(img, store, 'bad');
    const w = warnings();
    const cache = await openImageCache(store, 'bad', { warn: w.warn, platform });
    assert.deepEqual(await cache.metadata(), { buildpacks: [] });
    assert.equal(w.list.length, 1, `${label}: ${w.list.join('; ')}`);
  }
  await makeTestImage(store, 'not-a-cache');
  const w = warnings();
  const cache = await openImageCache(store, 'not-a-cache', { warn: w.warn, platform: { os: 'linux', architecture: 'amd64' } });
  assert.deepEqual(await cache.metadata(), { buildpacks: [] });
  assert.match(w.list.join(), /has no io.buildpacks.lifecycle.cache.metadata label/);
});

test('a listed layer the image does not have: a warning and a miss, and it is not reused', async () => {
  const { store, a } = await layoutWithCache();
  const w = warnings();
  const cache = await openImageCache(store, 'cache', { warn: w.warn, platform });
  const ghost = sha256('ghost');
  assert.equal(await cache.openLayer(ghost), undefined);
  assert.match(w.list[0]!, /has no layer/);
  const writer = await cache.begin();
  assert.equal(await writer.reuseLayer(ghost), false);
  assert.equal(await writer.reuseLayer(a.diffID), true);
  await writer.abort();
});

test('a missing blob: a warning and a miss', async () => {
  const { store, a, b, blobPath } = await layoutWithCache();
  await rm(blobPath(0));
  const w = warnings();
  const cache = await openImageCache(store, 'cache', { warn: w.warn, platform });
  assert.equal(await cache.openLayer(a.diffID), undefined);
  assert.match(w.list[0]!, /cannot read layer/);
  assert.deepEqual(await readStream((await cache.openLayer(b.diffID))!), b.bytes);
});

test('a corrupt blob: the stream fails, and the layer is then not reused', async () => {
  const { store, a, blobPath } = await layoutWithCache();
  const bytes = await readFile(blobPath(0));
  bytes[bytes.length - 12] = bytes[bytes.length - 12]! ^ 0xff;
  await writeFile(blobPath(0), bytes);
  const cache = await openImageCache(store, 'cache', { warn: () => undefined, platform });
  await assert.rejects(readStream((await cache.openLayer(a.diffID))!), (e) => isCairnError(e) || (e as NodeJS.ErrnoException).code?.startsWith('Z_') === true);
  const writer = await cache.begin();
  assert.equal(await writer.reuseLayer(a.diffID), false);
  await writer.abort();
});

test('a layer whose tar does not match the diffID the image claims: DIGEST_MISMATCH, not reused', async () => {
  const store = new MemoryStore();
  const tar = Buffer.alloc(2048);
  const blob = gzipSync(tar);
  const claimed = sha256('a different tar');
  const layer = bufferLayer(blob, { digest: sha256(blob), diffID: claimed });
  const img = makeImage({ architecture: 'arm64', os: 'linux', config: { Labels: { [CACHE_METADATA_NAME]: JSON.stringify(metadataOf('bp', '1', { l: claimed })) } }, rootfs: { type: 'layers', diff_ids: [] } }, [layer]);
  await writeImage(img, store, 'cache');
  const w = warnings();
  const cache = await openImageCache(store, 'cache', { warn: w.warn, platform });
  assert.equal((await cache.metadata()).buildpacks[0]!.layers.l!.sha, claimed);
  await assert.rejects(readStream((await cache.openLayer(claimed))!), (e) => isCairnError(e, 'DIGEST_MISMATCH'));
  const writer = await cache.begin();
  assert.equal(await writer.reuseLayer(claimed), false);
  assert.deepEqual(w.list, []);
});

test('an unreadable blob: a warning and a miss', async () => {
  const { store, a, blobPath } = await layoutWithCache();
  await chmod(blobPath(0), 0o000);
  const w = warnings();
  const cache = await openImageCache(store, 'cache', { warn: w.warn, platform });
  assert.equal(await unprivileged(() => cache.openLayer(a.diffID)), undefined);
  assert.match(w.list[0]!, /cannot read layer .*(EACCES|permission)/i);
});

test('a cache image that cannot be loaded (missing config, garbage manifest): a warning and an empty cache', async () => {
  const { dir, store, image } = await layoutWithCache();
  await rm(join(dir, 'blobs', 'sha256', digestHex(image.manifest.config.digest)));
  const w = warnings();
  const cache = await openImageCache(store, 'cache', { warn: w.warn, platform });
  assert.deepEqual(await cache.metadata(), { buildpacks: [] });
  assert.equal(w.list.length, 1);
  assert.match(w.list[0]!, /cannot be read/);
  // A manifest blob holding garbage.
  await writeFile(join(dir, 'blobs', 'sha256', digestHex(image.digest)), 'garbage');
  const w2 = warnings();
  const cache2 = await openImageCache(store, 'cache', { warn: w2.warn, platform });
  assert.deepEqual(await cache2.metadata(), { buildpacks: [] });
  assert.equal(w2.list.length, 1);
  // The next commit still works and replaces it.
  const writer = await cache2.begin();
  await writer.commit({ buildpacks: [] });
  const w3 = warnings();
  await validateCache(await openImageCache(store, 'cache', { warn: w3.warn, platform }), w3.list);
});

test('the layer chosen from a multi-platform index is the one for the platform', async () => {
  const store = new MemoryStore();
  const tars = await scratch();
  const manifests: { mediaType: string; digest: Digest; size: number; platform: { os: string; architecture: string } }[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const t = await writeTar(tars, architecture, [{ path: 'arch', content: architecture }]);
    const cache = await openImageCache(store, architecture, { warn: () => undefined, platform: { os: 'linux', architecture } });
    const w = await cache.begin();
    await w.addLayer(t.diffID, t.path);
    await w.commit(metadataOf('bp', architecture, { l: t.diffID }));
    const m = await store.getManifest(architecture);
    manifests.push({ mediaType: MediaType.OciManifest, digest: m.digest, size: m.bytes.length, platform: { os: 'linux', architecture } });
  }
  await store.putManifest({ mediaType: MediaType.OciIndex, bytes: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests })) }, 'multi');
  const cache = await openImageCache(store, 'multi', { warn: () => assert.fail('no warning'), platform: { os: 'linux', architecture: 'arm64' } });
  assert.equal((await cache.metadata()).buildpacks[0]!.version, 'arm64');
});
