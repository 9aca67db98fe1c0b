/** docker-archive: the writer and reader against the conformance suite, the round trip, and foreign layouts. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { sha256 } from '../../../../src/oci/digest.js';
import { isCairnError } from '../../../../src/oci/errors.js';
import { MediaType } from '../../../../src/oci/media-types.js';
import type { Manifest } from '../../../../src/oci/spec.js';
import { createDockerArchive, openDockerArchive, sameImageName } from '../../../../src/oci/store/archive/docker-archive.js';
import { buildTestImage, makeLayer, writeTestImage } from '../../../helpers/make-image.js';
import { runStoreConformance } from '../../store-conformance.js';

const fullTag = (t: string): string => `example.com/conformance:${t}`;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cairn-docker-archive-'));
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

runStoreConformance('docker-archive writer', async () => {
  const dir = await tempDir();
  const store = await createDockerArchive(join(dir, 'out.tar'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      assert.deepEqual((await readdir(dir)).filter((n) => n !== 'out.tar'), [], 'no staging left behind');
      await rm(dir, { recursive: true, force: true });
    },
  };
}, { noIndex: true, tag: fullTag });

runStoreConformance('docker-archive reader', async (seed) => {
  const dir = await tempDir();
  const path = join(dir, 'in.tar');
  const writer = await createDockerArchive(path);
  for (const s of seed) for (const t of s.tags) await writeTestImage(writer, s.image, fullTag(t));
  await writer.close();
  const store = await openDockerArchive(path);
  return { store, cleanup: async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  } };
}, { readOnly: true, tag: fullTag });

test('an OCI image round-trips through a docker-archive with the same manifest digest, gzip or plain', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const gzip of [true, false]) {
    const path = join(dir, `rt-${gzip}.tar`);
    const w = await createDockerArchive(path);
    const image = await buildTestImage({ label: `rt-${gzip}`, gzip });
    await writeTestImage(w, image, 'myapp:v1');
    await writeTestImage(w, image, 'myapp:latest');
    await w.close();
    // Independent look at the file: docker 25's layout, sorted, fixed times.
    const listing = execFileSync('tar', ['-tvf', path], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(listing.map((l) => l.split(/\s+/).slice(-1)[0]), [
      'blobs/', 'blobs/sha256/',
      ...[image.manifest.config.digest, ...image.layers.map((l) => l.digest)].map((d) => `blobs/sha256/${d.slice(7)}`).sort(),
      'manifest.json', 'repositories',
    ]);
    assert.ok(listing.every((l) => l.includes('0/0') && l.includes('1980-01-01')));
    const manifestJson = JSON.parse(execFileSync('tar', ['-xOf', path, 'manifest.json'], { encoding: 'utf8' })) as unknown;
    assert.deepEqual(manifestJson, [{
      Config: `blobs/sha256/${image.manifest.config.digest.slice(7)}`,
      RepoTags: ['myapp:latest', 'myapp:v1'],
      Layers: image.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
    }]);
    const r = await openDockerArchive(path);
    assert.deepEqual(r.images(), [{ digest: image.digest, tags: ['myapp:latest', 'myapp:v1'] }]);
    const m = await r.getManifest('myapp:v1');
    assert.deepEqual(m.bytes, image.manifestBytes);
    for (const l of image.layers) assert.deepEqual(await readAll(await r.openBlob(l)), l.blob);
    await r.close();
  }
});

test('writing is deterministic and atomic: the same images give the same bytes, nothing else is left', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await buildTestImage({ label: 'det-a' });
  const b = await buildTestImage({ label: 'det-b' });
  const files: Buffer[] = [];
  for (const name of ['one.tar', 'two.tar']) {
    const w = await createDockerArchive(join(dir, name));
    await writeTestImage(w, a, 'a:1');
    await writeTestImage(w, b, 'b:1');
    await writeTestImage(w, b);
    await w.close();
    files.push(await readFile(join(dir, name)));
  }
  assert.ok(files[0]!.equals(files[1]!));
  assert.deepEqual((await readdir(dir)).sort(), ['one.tar', 'two.tar']);
  // Untagged, moved and deleted tags: what is written follows the tags at close time.
  const w = await createDockerArchive(join(dir, 'three.tar'));
  await writeTestImage(w, a, 'x:1');
  await writeTestImage(w, b, 'x:1');
  const lone = await buildTestImage({ label: 'lone' });
  await writeTestImage(w, lone);
  await w.close();
  const r = await openDockerArchive(join(dir, 'three.tar'));
  assert.deepEqual(r.images(), [{ digest: b.digest, tags: ['x:1'] }, { digest: lone.digest, tags: [] }]);
  // A writer that is discarded writes nothing.
  const d = await createDockerArchive(join(dir, 'four.tar'));
  await writeTestImage(d, a, 'a:1');
  await d.discard();
  assert.deepEqual((await readdir(dir)).sort(), ['one.tar', 'three.tar', 'two.tar']);
});

test('the writer refuses indexes and tags that are not name:tag', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const w = await createDockerArchive(join(dir, 'x.tar'));
  const image = await buildTestImage({ label: 'refuse' });
  await assert.rejects(writeTestImage(w, image, 'latest'), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(writeTestImage(w, image, 'host:5000/app'), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
  await writeTestImage(w, image, 'host:5000/app:1');
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: image.digest, size: image.manifestBytes.length }] };
  await assert.rejects(w.putManifest({ mediaType: MediaType.OciIndex, bytes: Buffer.from(JSON.stringify(index)) }, 'app:multi'), (e) => isCairnError(e, 'UNSUPPORTED'));
  await w.discard();
});

/** A docker ≤ 24 style archive: `<id>/layer.tar`, a shared layer as a symlink, `<hex>.json` config. */
async function legacyArchive(path: string, gzipWhole: boolean): Promise<{ layerTars: Buffer[]; config: Buffer }> {
  const l1 = await makeLayer([{ path: 'etc/one', content: 'one' }], { gzip: false });
  const l2 = await makeLayer([{ path: 'etc/two', content: 'two' }], { gzip: false });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [l1.diffID, l2.diffID, l1.diffID] } }));
  const cfgName = `${sha256(config).slice(7)}.json`;
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  const id1 = 'a'.repeat(64);
  const id2 = 'b'.repeat(64);
  const id3 = 'c'.repeat(64);
  pack.entry({ name: `${id1}/`, type: 'directory' });
  pack.entry({ name: `${id1}/VERSION` }, '1.0');
  pack.entry({ name: `${id1}/layer.tar` }, l1.blob);
  pack.entry({ name: `${id2}/`, type: 'directory' });
  pack.entry({ name: `${id2}/layer.tar` }, l2.blob);
  pack.entry({ name: `${id3}/`, type: 'directory' });
  pack.entry({ name: `${id3}/layer.tar`, type: 'symlink', linkname: `../${id1}/layer.tar` });
  pack.entry({ name: cfgName }, config);
  pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: cfgName, RepoTags: ['legacy:1.0'], Layers: [`${id1}/layer.tar`, `${id2}/layer.tar`, `${id3}/layer.tar`] }]));
  pack.entry({ name: 'repositories' }, JSON.stringify({ legacy: { '1.0': id3 } }));
  pack.finalize();
  await ended;
  const bytes = Buffer.concat(chunks);
  await writeFile(path, gzipWhole ? gzipSync(bytes) : bytes);
  return { layerTars: [l1.blob, l2.blob, l1.blob], config };
}

test('reads the docker ≤ 24 layout with symlinked shared layers, and gzip-compressed archives', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const gz of [false, true]) {
    const path = join(dir, `legacy-${gz}.tar`);
    const { layerTars, config } = await legacyArchive(path, gz);
    if (gz) await assert.rejects(openDockerArchive(path), (e) => isCairnError(e, 'INVALID_ARCHIVE'));
    const r = await openDockerArchive(path, { tempDir: dir });
    assert.deepEqual(await r.listTags(), ['legacy:1.0']);
    const m = await r.getManifest('docker.io/library/legacy:1.0');
    const manifest = JSON.parse(m.bytes.toString()) as Manifest;
    assert.equal(m.digest, sha256(m.bytes));
    assert.equal(manifest.config.digest, sha256(config));
    assert.deepEqual(manifest.layers.map((l) => [l.mediaType, l.digest, l.size]), layerTars.map((b) => [MediaType.OciLayer, sha256(b), b.length]));
    assert.deepEqual(await readAll(await r.openBlob(manifest.layers[2]!)), layerTars[2]);
    assert.deepEqual(await readAll(await r.openBlob(manifest.config)), config);
    await r.close();
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('cairn-archive-')), [], 'the decompressed copy is removed');
  }
});

test('a damaged layer is caught when read, and a non-archive is refused', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'x.tar');
  const w = await createDockerArchive(path);
  const image = await buildTestImage({ label: 'damaged', gzip: false });
  await writeTestImage(w, image, 'x:1');
  await w.close();
  const bytes = await readFile(path);
  const at = bytes.indexOf('etc/hello.txt');
  assert.ok(at > 0);
  bytes[at] = 'E'.charCodeAt(0);
  await writeFile(path, bytes);
  const r = await openDockerArchive(path);
  await assert.rejects(async () => readAll(await r.openBlob(image.layers[0]!)), (e) => isCairnError(e, 'DIGEST_MISMATCH'));
  await writeFile(join(dir, 'junk.tar'), 'not a tar at all, but long enough? no.'.repeat(20));
  await assert.rejects(openDockerArchive(join(dir, 'junk.tar')), (e) => isCairnError(e, 'INVALID_ARCHIVE'));
  await assert.rejects(openDockerArchive(join(dir, 'absent.tar')), (e) => isCairnError(e, 'NOT_FOUND'));
});

test('image names match across short and full forms', () => {
  assert.ok(sameImageName('busybox:latest', 'docker.io/library/busybox:latest'));
  assert.ok(sameImageName('busybox', 'busybox:latest'));
  assert.ok(sameImageName('team/app:1', 'docker.io/team/app:1'));
  assert.ok(!sameImageName('localhost/app:1', 'app:1'));
  assert.ok(!sameImageName('app:1', 'app:2'));
});

test('blobs of a written image come back from a reader in parallel', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const w = await createDockerArchive(join(dir, 'p.tar'));
  const image = await buildTestImage({ layers: Array.from({ length: 6 }, (_, i) => [{ path: `f${i}`, content: Buffer.alloc(100_000 * (i + 1), i) }]) });
  await writeTestImage(w, image, 'p:1');
  await w.close();
  const r = await openDockerArchive(join(dir, 'p.tar'));
  const got = await Promise.all(image.layers.map(async (l) => readAll(await r.openBlob(l))));
  got.forEach((b, i) => assert.ok(b.equals(image.layers[i]!.blob)));
});
