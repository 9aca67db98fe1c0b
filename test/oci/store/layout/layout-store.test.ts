/** Layout specifics beyond the conformance suite: opening, index.json shape, garbage collection. */
import assert from 'node:assert/strict';
import fsPromises, { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isCairnError } from '../../../../src/oci/errors.js';
import { MediaType } from '../../../../src/oci/media-types.js';
import type { Index } from '../../../../src/oci/spec.js';
import { openLayoutStore } from '../../../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../../../src/oci/store/layout/validate-layout.js';
import { buildTestImage, makeLayer, makeTestImage, writeTestImage } from '../../../helpers/make-image.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-layout-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const HOUR = 3_600_000;

test('opening: a missing layout is NOT_FOUND unless created; a foreign non-empty folder is refused', async (t) => {
  const tmp = await tempDir(t);
  await assert.rejects(openLayoutStore(join(tmp, 'none')), (e) => isCairnError(e, 'NOT_FOUND'));
  await mkdir(join(tmp, 'foreign'));
  await writeFile(join(tmp, 'foreign', 'notes.txt'), 'x');
  await assert.rejects(openLayoutStore(join(tmp, 'foreign'), { create: true }), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
  const store = await openLayoutStore(join(tmp, 'new', 'deep'), { create: true });
  assert.deepEqual(JSON.parse(await readFile(join(store.dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  assert.deepEqual(JSON.parse(await readFile(join(store.dir, 'index.json'), 'utf8')), { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
  // Opening again (with or without create) keeps the contents.
  await makeTestImage(store, 'kept');
  assert.deepEqual(await (await openLayoutStore(store.dir, { create: true })).listTags(), ['kept']);
  await rm(join(store.dir, 'index.json'));
  await assert.rejects(openLayoutStore(store.dir), (e) => isCairnError(e, 'STORE_CORRUPT'));
});

test('opening with create: a layout another process finishes between our check and our listing is accepted', async (t) => {
  // Builds sharing a CAIRN_HOME create its store at the same moment. The interleaving that once failed
  // ("not empty and not an OCI image layout") is made exact here: the first listing of the folder lets
  // another opener create the whole layout first.
  const dir = join(await tempDir(t), 'l');
  await mkdir(dir);
  const realReaddir = fsPromises.readdir;
  let raced = false;
  const mocked = t.mock.method(fsPromises, 'readdir', async (...args: Parameters<typeof realReaddir>) => {
    if (!raced && args[0] === dir) {
      raced = true;
      await openLayoutStore(dir, { create: true });
    }
    return realReaddir(...args);
  });
  syncBuiltinESMExports();
  t.after(() => {
    mocked.mock.restore();
    syncBuiltinESMExports();
  });
  const store = await openLayoutStore(dir, { create: true });
  assert.ok(raced, 'the listing ran, with the other opener inside it');
  assert.deepEqual(await store.listTags(), []);
  assert.deepEqual((await realReaddir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
});

test('index.json: one entry per tag; an unnamed entry for an untagged manifest until it is tagged or listed by an index', async (t) => {
  const store = await openLayoutStore(join(await tempDir(t), 'l'), { create: true });
  const entries = async (): Promise<[string, string | undefined][]> =>
    (JSON.parse(await readFile(store.paths.index, 'utf8')) as Index).manifests.map((d) => [d.digest, d.annotations?.['org.opencontainers.image.ref.name']]);
  const a = await buildTestImage({ label: 'a' });
  await writeTestImage(store, a, 'x');
  await writeTestImage(store, a, 'y');
  const u = await makeTestImage(store, undefined, { label: 'untagged' });
  await writeTestImage(store, u);
  assert.deepEqual(await entries(), [[a.digest, 'x'], [a.digest, 'y'], [u.digest, undefined]]);
  await writeTestImage(store, u, 'z');
  assert.deepEqual(await entries(), [[a.digest, 'x'], [a.digest, 'y'], [u.digest, 'z']]);
  // Children stored untagged, then their index: only the index keeps an entry (also when copied again).
  const c1 = await makeTestImage(store, undefined, { label: 'c1' });
  const c2 = await makeTestImage(store, undefined, { label: 'c2' });
  const idx: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [c1, c2].map((c) => ({ mediaType: MediaType.OciManifest, digest: c.digest, size: c.manifestBytes.length })) };
  const idxBytes = Buffer.from(JSON.stringify(idx));
  for (let round = 0; round < 2; round++) {
    await writeTestImage(store, c1);
    await writeTestImage(store, c2);
    const d = await store.putManifest({ mediaType: MediaType.OciIndex, bytes: idxBytes }, 'multi');
    assert.deepEqual((await entries()).slice(3), [[d, 'multi']]);
  }
  const index = JSON.parse(await readFile(store.paths.index, 'utf8')) as Index;
  // A foreign tool's extra fields survive cairn's updates.
  index.annotations = { 'org.example': 'kept' };
  await writeFile(store.paths.index, JSON.stringify(index));
  await store.deleteTag('x');
  assert.deepEqual((JSON.parse(await readFile(store.paths.index, 'utf8')) as Index).annotations, { 'org.example': 'kept' });
  await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes: a.manifestBytes }, 'bad tag!'), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes: a.manifestBytes }, a.digest), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(store.getManifest(a.layers[0]!.digest), (e) => isCairnError(e, 'INVALID_MANIFEST'));
});

test('gc removes unreachable blobs and old temp files, sparing young ones and everything reachable', async (t) => {
  let now = new Date();
  const dir = join(await tempDir(t), 'l');
  const store = await openLayoutStore(dir, { create: true, now: () => now });
  const shared = await makeLayer([{ path: 'shared.txt', content: 'shared' }]);
  const kept = await buildTestImage({ layers: [[{ path: 'k', content: 'keep' }]], label: 'kept' });
  const dropped = await buildTestImage({ layers: [[{ path: 'd', content: 'drop' }]], label: 'dropped' });
  // An index keeps its children reachable.
  await writeTestImage(store, kept);
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: kept.digest, size: kept.manifestBytes.length }] };
  await store.putManifest({ mediaType: MediaType.OciIndex, bytes: Buffer.from(JSON.stringify(index)) }, 'idx');
  await writeTestImage(store, dropped, 'gone');
  await store.deleteTag('gone');
  await store.putBlob(shared, async () => Readable.from([shared.blob]));
  await writeFile(join(store.paths.blobs, '.tmp-abc-old'), 'partial');
  await writeFile(join(dir, '.tmp-def-index.json'), 'partial');

  // Everything is young: nothing goes.
  assert.deepEqual(await store.gc(), { blobsRemoved: 0, bytesRemoved: 0, tempsRemoved: 0 });

  // Two hours later (file times are real, the store's clock is moved), the unreachable ones go.
  now = new Date(Date.now() + 2 * HOUR);
  const young = join(store.paths.blobs, '.tmp-young');
  await writeFile(young, 'in flight');
  await utimes(young, now, now);
  const result = await store.gc();
  const droppedBytes = dropped.manifestBytes.length + dropped.configBytes.length + dropped.layers[0]!.size + shared.size;
  assert.deepEqual(result, { blobsRemoved: 4, bytesRemoved: droppedBytes, tempsRemoved: 2 });
  assert.ok((await readdir(store.paths.blobs)).includes('.tmp-young'));
  assert.equal(await store.statBlob(dropped.digest), undefined);
  assert.equal(await store.statBlob(kept.layers[0]!.digest), kept.layers[0]!.size);
  const report = await validateLayout(dir);
  assert.equal(report.blobs, 4, 'index + kept manifest, config and layer');
  assert.deepEqual(report.tags, ['idx']);
  assert.equal((JSON.parse(await readFile(store.paths.index, 'utf8')) as Index).manifests.length, 1);
});

test('putBlob of a present blob refreshes its time, so gc spares it for the writer about to use it', async (t) => {
  let now = new Date(Date.now() + 2 * HOUR);
  const store = await openLayoutStore(join(await tempDir(t), 'l'), { create: true, now: () => now });
  const layer = await makeLayer([{ path: 'x', content: 'x' }]);
  await store.putBlob(layer, async () => Readable.from([layer.blob]));
  const old = new Date(0);
  await utimes(store.paths.blob(layer.digest), old, old);
  assert.equal(await store.putBlob(layer, async () => Readable.from([layer.blob])), false);
  assert.equal((await store.gc()).blobsRemoved, 0);
  now = new Date(now.getTime() + 2 * HOUR);
  assert.equal((await store.gc()).blobsRemoved, 1);
});

test('gc refuses to run on a layout whose reachable manifest is missing', async (t) => {
  const store = await openLayoutStore(join(await tempDir(t), 'l'), { create: true });
  const image = await makeTestImage(store, 'x');
  await rm(store.paths.blob(image.digest));
  await assert.rejects(store.gc({ graceMs: 0 }), (e) => isCairnError(e, 'STORE_CORRUPT'));
  assert.equal(await store.statBlob(image.layers[0]!.digest), image.layers[0]!.size);
  await assert.rejects(store.getManifest('x'), (e) => isCairnError(e, 'STORE_CORRUPT'));
});
