/**
 * Against a real dockerd 20.10 (started privately): cairn's docker-archive loads and runs, `docker save`
 * output reads back, and the daemon store loads images into the engine and reads them back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isCairnError } from '../../../../src/oci/errors.js';
import { MediaType } from '../../../../src/oci/media-types.js';
import type { ImageConfig, Manifest } from '../../../../src/oci/spec.js';
import { createDockerArchive, openDockerArchive } from '../../../../src/oci/store/archive/docker-archive.js';
import { openDaemonStore } from '../../../../src/oci/store/daemon/daemon-store.js';
import type { Store } from '../../../../src/oci/store/store.js';
import { type Dockerd, startDockerd } from '../../../helpers/dockerd.js';
import { buildTestImage, hostShellFiles, type TestImage, writeTestImage } from '../../../helpers/make-image.js';
import { needTool, whichTool } from '../../../helpers/tools.js';
import { runStoreConformance } from '../../store-conformance.js';

let dockerd: Dockerd | undefined;
let tmp = '';

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cairn-dockerd-test-'));
  if (whichTool('dockerd') && whichTool('docker')) dockerd = await startDockerd();
});

after(async () => {
  await dockerd?.stop();
  await rm(tmp, { recursive: true, force: true });
});

function runnable(label: string, gzip = true): Promise<TestImage> {
  return buildTestImage({
    gzip,
    layers: [hostShellFiles(), [{ path: 'etc/greeting', content: `hello from ${label}\n` }]],
    runtime: { Entrypoint: ['/bin/sh', '-c', 'read line < /etc/greeting; echo "$line"'] },
  });
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// Staging and reading through the engine, against an engine with nothing loaded: cleanup discards instead
// of loading, so the tests do not see each other's tags.
runStoreConformance('docker-daemon (dockerd)', async () => {
  if (!dockerd) throw new Error('dockerd is not available');
  const store = await openDaemonStore({ dockerHost: dockerd.host, tempDir: tmp });
  return { store, cleanup: () => store.discard() };
}, { noIndex: true, noDelete: true, tag: (t) => `conformance/x:${t}`, needs: ['dockerd', 'docker'] });

test('docker load takes a docker-archive cairn wrote, gzip or plain layers, and runs it', async (t) => {
  if (!needTool(t, 'dockerd', 'docker') || !dockerd) return;
  for (const gzip of [true, false]) {
    const path = join(tmp, `run-${gzip}.tar`);
    const w = await createDockerArchive(path);
    await writeTestImage(w, await runnable(`docker-${gzip}`, gzip), `cairn-test/run:${gzip ? 'gz' : 'plain'}`);
    await w.close();
    assert.match(dockerd.docker(['load', '-i', path]), new RegExp(`Loaded image: cairn-test/run:${gzip ? 'gz' : 'plain'}`));
    const out = dockerd.docker(['run', '--rm', '--network', 'host', `cairn-test/run:${gzip ? 'gz' : 'plain'}`]);
    assert.equal(out, `hello from docker-${gzip}\n`);
  }
});

test('the daemon store loads into dockerd on close and reads the image back with the same digest', async (t) => {
  if (!needTool(t, 'dockerd', 'docker') || !dockerd) return;
  const image = await runnable('daemon-store', false);
  const w = await openDaemonStore({ dockerHost: dockerd.host, tempDir: tmp });
  await writeTestImage(w, image, 'cairn-test/daemon:v1');
  await w.close();
  assert.equal(dockerd.docker(['run', '--rm', '--network', 'host', 'cairn-test/daemon:v1']), 'hello from daemon-store\n');
  const r = await openDaemonStore({ dockerHost: dockerd.host, tempDir: tmp });
  assert.ok((await r.listTags()).includes('cairn-test/daemon:v1'));
  // Plain tar layers come back byte for byte (docker re-creates them from tar-split), so the digest holds.
  const m = await r.getManifest('cairn-test/daemon:v1');
  assert.equal(m.digest, image.digest);
  assert.deepEqual(await readAll(await r.openBlob(image.layers[1]!)), image.layers[1]!.blob);
  assert.equal(await r.statBlob(image.layers[0]!.digest), image.layers[0]!.size);
  await assert.rejects(r.getManifest('cairn-test/absent:v1'), (e) => isCairnError(e, 'MANIFEST_NOT_FOUND'));
  await r.deleteTag('cairn-test/daemon:v1');
  assert.ok(!(await r.listTags()).includes('cairn-test/daemon:v1'));
  await assert.rejects(r.deleteTag('cairn-test/daemon:v1'), (e) => isCairnError(e, 'MANIFEST_NOT_FOUND'));
  await r.close();
  assert.deepEqual((await readdir(tmp)).filter((n) => n.startsWith('cairn-daemon-')), [], 'temp files removed');
});

test('a gzip image loaded through the daemon store reads back with matching diffIDs', async (t) => {
  if (!needTool(t, 'dockerd', 'docker') || !dockerd) return;
  const image = await runnable('gzip-daemon', true);
  const w = await openDaemonStore({ dockerHost: dockerd.host, tempDir: tmp });
  await writeTestImage(w, image, 'cairn-test/gzip:v1');
  await w.close();
  const r: Store = await openDaemonStore({ dockerHost: dockerd.host, tempDir: tmp });
  const manifest = JSON.parse((await r.getManifest('cairn-test/gzip:v1')).bytes.toString()) as Manifest;
  const config = JSON.parse((await readAll(await r.openBlob(manifest.config))).toString()) as ImageConfig;
  assert.deepEqual(config.rootfs.diff_ids, image.config.rootfs.diff_ids);
  // docker stores layers uncompressed: the saved layer is the diffID's tar.
  assert.deepEqual(manifest.layers.map((l) => [l.mediaType, l.digest]), image.layers.map((l) => [MediaType.OciLayer, l.diffID]));
  await r.close();
});

test('cairn reads what docker save writes', async (t) => {
  if (!needTool(t, 'dockerd', 'docker') || !dockerd) return;
  const image = await runnable('docker-save');
  const path = join(tmp, 'for-save.tar');
  const w = await createDockerArchive(path);
  await writeTestImage(w, image, 'cairn-test/save:v1');
  await w.close();
  dockerd.docker(['load', '-i', path]);
  dockerd.docker(['tag', 'cairn-test/save:v1', 'cairn-test/save:second']);
  const saved = join(tmp, 'saved.tar');
  dockerd.docker(['save', '-o', saved, 'cairn-test/save:v1', 'cairn-test/save:second']);
  const r = await openDockerArchive(saved);
  assert.deepEqual(await r.listTags(), ['cairn-test/save:second', 'cairn-test/save:v1']);
  const m = await r.getManifest('cairn-test/save:second');
  const manifest = JSON.parse(m.bytes.toString()) as Manifest;
  assert.equal(manifest.config.digest, image.manifest.config.digest, 'docker keeps the config bytes');
  for (const [i, l] of manifest.layers.entries()) {
    assert.equal(l.mediaType, MediaType.OciLayer);
    assert.equal(l.digest, image.layers[i]!.diffID);
    const gunzipped = gunzipSync(image.layers[i]!.blob);
    assert.deepEqual(await readAll(await r.openBlob(l)), gunzipped);
  }
  await r.close();
});

