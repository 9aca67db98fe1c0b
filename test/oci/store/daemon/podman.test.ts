/**
 * Against podman 4.3 (isolated storage): cairn's docker-archive loads and runs, `podman save` output reads
 * back, and the daemon store works over podman's Docker-compatible API (`podman system service`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { isCairnError } from '../../../../src/oci/errors.js';
import { MediaType } from '../../../../src/oci/media-types.js';
import type { ImageConfig, Manifest } from '../../../../src/oci/spec.js';
import { createDockerArchive, openDockerArchive } from '../../../../src/oci/store/archive/docker-archive.js';
import { openDaemonStore } from '../../../../src/oci/store/daemon/daemon-store.js';
import { buildTestImage, hostShellFiles, type TestImage, writeTestImage } from '../../../helpers/make-image.js';
import { type Podman, setupPodman } from '../../../helpers/podman.js';
import { needTool, whichTool } from '../../../helpers/tools.js';

let podman: Podman | undefined;
let tmp = '';

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cairn-podman-test-'));
  if (whichTool('podman')) podman = await setupPodman();
});

after(async () => {
  await podman?.cleanup();
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

test('podman load takes a docker-archive cairn wrote, gzip or plain layers, and runs it', async (t) => {
  if (!needTool(t, 'podman', 'runc') || !podman) return;
  for (const gzip of [true, false]) {
    const path = join(tmp, `run-${gzip}.tar`);
    const w = await createDockerArchive(path);
    const name = `localhost/cairn-test/run:${gzip ? 'gz' : 'plain'}`;
    await writeTestImage(w, await runnable(`podman-${gzip}`, gzip), name);
    await w.close();
    assert.match(podman.podman(['load', '-i', path]), new RegExp(`Loaded image: ${name}`));
    assert.equal(podman.podman(['run', '--rm', '--network', 'host', name]), `hello from podman-${gzip}\n`);
  }
});

test('cairn reads what podman save --format docker-archive writes', async (t) => {
  if (!needTool(t, 'podman') || !podman) return;
  const image = await runnable('podman-save');
  const path = join(tmp, 'for-save.tar');
  const w = await createDockerArchive(path);
  await writeTestImage(w, image, 'localhost/cairn-test/save:v1');
  await w.close();
  podman.podman(['load', '-i', path]);
  const saved = join(tmp, 'saved.tar');
  podman.podman(['save', '--format', 'docker-archive', '-o', saved, 'localhost/cairn-test/save:v1']);
  const r = await openDockerArchive(saved);
  assert.deepEqual(await r.listTags(), ['localhost/cairn-test/save:v1']);
  const manifest = JSON.parse((await r.getManifest('localhost/cairn-test/save:v1')).bytes.toString()) as Manifest;
  const config = JSON.parse((await readAll(await r.openBlob(manifest.config))).toString()) as ImageConfig;
  assert.deepEqual(config.rootfs.diff_ids, image.config.rootfs.diff_ids);
  assert.deepEqual(config.config?.Entrypoint, image.config.config?.Entrypoint);
  // podman saves layers uncompressed: each is its diffID's tar.
  assert.deepEqual(manifest.layers.map((l) => [l.mediaType, l.digest]), image.layers.map((l) => [MediaType.OciLayer, l.diffID]));
  for (const l of manifest.layers) assert.equal((await readAll(await r.openBlob(l))).length, l.size);
  await r.close();
});

test('the daemon store talks to podman system service: load on close, read back', async (t) => {
  if (!needTool(t, 'podman', 'runc') || !podman) return;
  const service = await podman.service();
  const image = await runnable('podman-api', false);
  const w = await openDaemonStore({ dockerHost: service.host, tempDir: tmp });
  await writeTestImage(w, image, 'localhost/cairn-test/api:v1');
  await w.close();
  assert.equal(podman.podman(['run', '--rm', '--network', 'host', 'localhost/cairn-test/api:v1']), 'hello from podman-api\n');
  const r = await openDaemonStore({ dockerHost: service.host, tempDir: tmp });
  assert.ok((await r.listTags()).includes('localhost/cairn-test/api:v1'));
  const m = await r.getManifest('localhost/cairn-test/api:v1');
  const manifest = JSON.parse(m.bytes.toString()) as Manifest;
  assert.deepEqual(manifest.layers.map((l) => l.digest), image.layers.map((l) => l.diffID));
  // podman keeps the config bytes and re-creates plain layers byte for byte: the digest holds.
  assert.equal(m.digest, image.digest);
  await assert.rejects(r.getManifest('localhost/cairn-test/absent:v1'), (e) => isCairnError(e, 'MANIFEST_NOT_FOUND'));
  await r.deleteTag('localhost/cairn-test/api:v1');
  assert.ok(!(await r.listTags()).includes('localhost/cairn-test/api:v1'));
  await r.close();
  await service.stop();
});
