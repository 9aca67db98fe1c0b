import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { copyRef, writeImage } from '../../src/oci/copy.js';
import { sha256 } from '../../src/oci/digest.js';
import { isCairnError } from '../../src/oci/errors.js';
import { loadImage, makeImage } from '../../src/oci/image.js';
import { bufferLayer } from '../../src/oci/layer.js';
import { MediaType } from '../../src/oci/media-types.js';
import { appendLayers, rebase, setCreated, setLabels } from '../../src/oci/mutate.js';
import type { Index } from '../../src/oci/spec.js';
import { MemoryStore } from '../../src/oci/store/memory/memory-store.js';
import { validate } from '../../src/oci/validate.js';
import { makeLayer, makeTestImage } from '../helpers/make-image.js';

const amd64 = { os: 'linux', architecture: 'amd64' };

async function layerOf(path: string, content: string) {
  const l = await makeLayer([{ path, content }]);
  return bufferLayer(l.blob, { digest: l.digest, diffID: l.diffID });
}

test('loadImage reads what was written, byte for byte, and validates', async () => {
  const store = new MemoryStore();
  const t = await makeTestImage(store, 'app:v1');
  const img = await loadImage(store, 'app:v1');
  assert.equal(img.digest, t.digest);
  assert.deepEqual(img.rawManifest, t.manifestBytes);
  assert.deepEqual(img.layers.map((l) => l.diffID), t.layers.map((l) => l.diffID));
  await validate(img);
});

test('mutations are pure and deterministic', async () => {
  const store = new MemoryStore();
  await makeTestImage(store, 'base');
  const base = await loadImage(store, 'base');
  const extra = await layerOf('app/index.js', 'console.log(1)\n');
  const a = setCreated(setLabels(appendLayers(base, [{ layer: extra, history: { created_by: 'test' } }]), { b: '2', a: '1' }), new Date(315532801000));
  const b = setCreated(setLabels(appendLayers(base, [{ layer: extra, history: { created_by: 'test' } }]), { a: '1', b: '2' }), new Date(315532801000));
  assert.equal(a.digest, b.digest, 'same inputs, same digest (labels sorted)');
  assert.equal(base.layers.length, 2, 'the base value is unchanged');
  assert.equal(a.layers.length, 3);
  assert.equal(a.config.created, '1980-01-01T00:00:01Z');
  assert.deepEqual(Object.keys(a.config.config!.Labels!), ['a', 'b']);
  assert.equal(a.config.history!.length, 3);
  assert.ok(a.config.history!.every((h) => h.created === '1980-01-01T00:00:01Z'));
  await validate(a);
  const written = await writeImage(a, store, 'app:v1');
  assert.equal(written.digest, a.digest);
  assert.equal(written.blobsWritten, 2, 'only the new layer and config are written');
  await validate(await loadImage(store, 'app:v1'));
});

test('rebase keeps app layers and swaps base layers', async () => {
  const store = new MemoryStore();
  await makeTestImage(store, 'run:v1', { label: 'v1' });
  await makeTestImage(store, 'run:v2', { label: 'v2', layers: [[{ path: 'etc/os', content: 'v2' }], [{ path: 'etc/x', content: 'x' }], [{ path: 'etc/y', content: 'y' }]] });
  const v1 = await loadImage(store, 'run:v1');
  const v2 = await loadImage(store, 'run:v2');
  const app = appendLayers(v1, [{ layer: await layerOf('workspace/a', 'a') }, { layer: await layerOf('workspace/b', 'b') }]);
  const top = v1.layers.at(-1)!.diffID;
  const rebased = rebase(app, top, v2);
  assert.deepEqual(rebased.layers.map((l) => l.digest), [...v2.layers, ...app.layers.slice(2)].map((l) => l.digest));
  assert.equal(rebased.config.history!.length, 5);
  await validate(rebased);
  assert.throws(() => rebase(app, sha256('nope'), v2), (e: unknown) => isCairnError(e, 'INVALID_ARGUMENT'));
  // A patched base (v1's layers plus one): the layers the app already has are the app's own Layer values.
  const patched = appendLayers(await loadImage(store, 'run:v1'), [{ layer: await layerOf('etc/patch', 'p') }]);
  assert.notEqual(patched.layers[0], app.layers[0], 'another load: other Layer values');
  const onPatched = rebase(app, top, patched);
  assert.ok(onPatched.layers[0] === app.layers[0] && onPatched.layers[1] === app.layers[1], 'shared base layers come from the app image');
  assert.equal(onPatched.layers[2], patched.layers[2]);
});

test('validate catches a config that lies about a layer', async () => {
  const store = new MemoryStore();
  await makeTestImage(store, 'x');
  const img = await loadImage(store, 'x');
  const wrong = { ...img.layers[0]!, diffID: sha256('other') };
  const bad = makeImage(img.config, [wrong, img.layers[1]!]);
  await assert.rejects(validate(bad), (e: unknown) => isCairnError(e, 'STORE_CORRUPT') && /uncompressed tar hashes to/.test((e as Error).message));
});

test('copyRef copies a whole index and keeps every digest; platform selection picks a child', async () => {
  const src = new MemoryStore('src');
  const a = await makeTestImage(src, undefined, { label: 'amd64' });
  const b = await makeTestImage(src, undefined, { label: 'arm64' });
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      { mediaType: MediaType.OciManifest, digest: a.digest, size: a.manifestBytes.length, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: MediaType.OciManifest, digest: b.digest, size: b.manifestBytes.length, platform: { os: 'linux', architecture: 'arm64' } },
    ],
  };
  const indexDigest = await src.putManifest({ mediaType: MediaType.OciIndex, bytes: Buffer.from(JSON.stringify(index)) }, 'multi');
  const dst = new MemoryStore('dst');
  const r = await copyRef(src, 'multi', dst, 'copied');
  assert.equal(r.digest, indexDigest);
  assert.equal((await loadImage(dst, 'copied', { platform: { os: 'linux', architecture: 'arm64' } })).digest, b.digest);
  assert.equal((await loadImage(dst, 'copied', { platform: amd64 })).digest, a.digest);
  await assert.rejects(loadImage(dst, 'copied', { platform: { os: 'linux', architecture: 's390x' } }), (e: unknown) => isCairnError(e, 'NO_MATCHING_PLATFORM') && /linux\/amd64, linux\/arm64/.test((e as Error).message));
  await assert.rejects(loadImage(dst, 'copied'), (e: unknown) => isCairnError(e, 'NO_MATCHING_PLATFORM'));
  const again = await copyRef(src, 'multi', dst, 'copied2');
  assert.equal(again.blobsWritten, 0, 'a second copy writes nothing');
});

test('a blob whose bytes do not match fails the copy and leaves nothing behind', async () => {
  const src = new MemoryStore('src');
  const t = await makeTestImage(src, 'img');
  const liar = Object.create(src) as MemoryStore;
  liar.openBlob = async (d) => (d.digest === t.layers[0]!.digest ? Readable.from([Buffer.from('evil bytes')]) : src.openBlob(d));
  const dst = new MemoryStore('dst');
  await assert.rejects(copyRef(liar, 'img', dst, 'img'), (e: unknown) => isCairnError(e, 'SIZE_MISMATCH') || isCairnError(e, 'DIGEST_MISMATCH'));
  assert.equal(await dst.statBlob(t.layers[0]!.digest), undefined);
  assert.deepEqual(await dst.listTags(), []);
});

test('malformed manifests and configs are reported, not crashed on', async () => {
  const store = new MemoryStore();
  const t = await makeTestImage(store, 'ok');
  const cfg = Buffer.from(JSON.stringify({ ...t.config, rootfs: { type: 'layers', diff_ids: [] } }));
  await store.putBlob({ digest: sha256(cfg), size: cfg.length }, async () => Readable.from([cfg]));
  const m = Buffer.from(JSON.stringify({ ...t.manifest, config: { ...t.manifest.config, digest: sha256(cfg), size: cfg.length } }));
  await store.putManifest({ mediaType: MediaType.OciManifest, bytes: m }, 'bad');
  await assert.rejects(loadImage(store, 'bad'), (e: unknown) => isCairnError(e, 'INVALID_CONFIG') && /0 diff_ids for 2 layers/.test((e as Error).message));
});
