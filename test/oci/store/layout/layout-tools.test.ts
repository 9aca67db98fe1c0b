/**
 * Interoperability of the layout store with independent tools: what cairn writes is read by skopeo,
 * umoci and oci-image-tool; what umoci and skopeo write is read by cairn.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { sha256 } from '../../../../src/oci/digest.js';
import { isCairnError } from '../../../../src/oci/errors.js';
import { MediaType } from '../../../../src/oci/media-types.js';
import type { Manifest } from '../../../../src/oci/spec.js';
import { openLayoutStore } from '../../../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../../../src/oci/store/layout/validate-layout.js';
import { makeTestImage } from '../../../helpers/make-image.js';
import { needTool } from '../../../helpers/tools.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-layout-tools-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('skopeo inspects a layout cairn wrote, by either of two tags', async (t) => {
  if (!needTool(t, 'skopeo')) return;
  const dir = join(await tempDir(t), 'layout');
  const store = await openLayoutStore(dir, { create: true });
  const image = await makeTestImage(store, 'myapp:v1', { label: 'skopeo' });
  await store.putManifest({ mediaType: MediaType.OciManifest, bytes: image.manifestBytes }, 'latest');
  for (const tag of ['myapp:v1', 'latest']) {
    const info = JSON.parse(run('skopeo', ['inspect', `oci:${dir}:${tag}`])) as { Digest: string; Layers: string[]; Labels: Record<string, string> };
    assert.equal(info.Digest, image.digest);
    assert.deepEqual(info.Layers, image.layers.map((l) => l.digest));
    assert.equal(info.Labels.test, 'skopeo');
  }
  const raw = run('skopeo', ['inspect', '--raw', `oci:${dir}:latest`]);
  assert.equal(sha256(raw), image.digest);
});

test('skopeo inspects the one untagged image of a layout without naming a tag', async (t) => {
  if (!needTool(t, 'skopeo')) return;
  const dir = join(await tempDir(t), 'layout');
  const image = await makeTestImage(await openLayoutStore(dir, { create: true }), undefined, { label: 'untagged' });
  const info = JSON.parse(run('skopeo', ['inspect', `oci:${dir}`])) as { Digest: string };
  assert.equal(info.Digest, image.digest);
});

test('umoci unpacks a layout cairn wrote and oci-image-tool validates it', async (t) => {
  if (!needTool(t, 'umoci', 'oci-image-tool')) return;
  const tmp = await tempDir(t);
  const dir = join(tmp, 'layout');
  const store = await openLayoutStore(dir, { create: true });
  await makeTestImage(store, 'app:1', { label: 'umoci' });
  const bundle = join(tmp, 'bundle');
  run('umoci', ['unpack', '--image', `${dir}:app:1`, bundle]);
  assert.equal(await readFile(join(bundle, 'rootfs', 'etc', 'hello.txt'), 'utf8'), 'hello umoci\n');
  assert.equal(await readFile(join(bundle, 'rootfs', 'app', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  const out = run('oci-image-tool', ['validate', '--type', 'image', '--ref', 'name=app:1', dir]);
  assert.match(out, /Validation succeeded/);
  // The same tool catches a damaged layout: the check can fail.
  const layer = (JSON.parse((await readFile(join(dir, 'blobs', 'sha256', (await store.getManifest('app:1')).digest.slice(7)))).toString()) as Manifest).layers[0]!;
  await writeFile(join(dir, 'blobs', 'sha256', layer.digest.slice(7)), 'damaged');
  assert.throws(() => run('oci-image-tool', ['validate', '--type', 'image', '--ref', 'name=app:1', dir]));
  await assert.rejects(validateLayout(dir), (e) => isCairnError(e, 'STORE_CORRUPT') && e.message.includes(layer.digest.slice(7)));
});

test('cairn reads a layout umoci wrote (init, new, insert)', async (t) => {
  if (!needTool(t, 'umoci')) return;
  const tmp = await tempDir(t);
  const dir = join(tmp, 'layout');
  await writeFile(join(tmp, 'hello.txt'), 'from umoci\n');
  run('umoci', ['init', '--layout', dir]);
  run('umoci', ['new', '--image', `${dir}:base`]);
  run('umoci', ['insert', '--image', `${dir}:base`, join(tmp, 'hello.txt'), '/hello.txt']);
  const store = await openLayoutStore(dir);
  assert.deepEqual(await store.listTags(), ['base']);
  const m = await store.getManifest('base');
  assert.equal(m.mediaType, MediaType.OciManifest);
  const manifest = JSON.parse(m.bytes.toString()) as Manifest;
  assert.equal(manifest.layers.length, 1);
  const layer = await readAll(await store.openBlob(manifest.layers[0]!));
  assert.equal(layer.length, manifest.layers[0]!.size);
  // (umoci 0.4.7's insert writes a tar without trailing padding, which GNU tar rejects: look at the bytes.)
  const tarBytes = gunzipSync(layer);
  assert.equal(tarBytes.subarray(0, 9).toString(), 'hello.txt');
  assert.ok(tarBytes.includes('from umoci\n'));
  await validateLayout(dir);
  // cairn adds a tag to umoci's layout, and umoci still reads it.
  await store.putManifest({ mediaType: m.mediaType, bytes: m.bytes }, 'copy');
  run('umoci', ['stat', '--image', `${dir}:copy`]);
  // umoci's superseded manifests are unreachable: gc removes them, and only them.
  const gc = await store.gc({ graceMs: 0 });
  assert.ok(gc.blobsRemoved > 0);
  await validateLayout(dir);
  run('umoci', ['unpack', '--image', `${dir}:base`, join(tmp, 'bundle')]);
  assert.equal(await readFile(join(tmp, 'bundle', 'rootfs', 'hello.txt'), 'utf8'), 'from umoci\n');
});

test('skopeo copies between layouts cairn wrote and reads, keeping the digest', async (t) => {
  if (!needTool(t, 'skopeo')) return;
  const tmp = await tempDir(t);
  const src = await openLayoutStore(join(tmp, 'a'), { create: true });
  const image = await makeTestImage(src, 'one', { label: 'copy' });
  run('skopeo', ['copy', '--quiet', `oci:${join(tmp, 'a')}:one`, `oci:${join(tmp, 'b')}:two`]);
  const dst = await openLayoutStore(join(tmp, 'b'));
  const got = await dst.getManifest('two');
  assert.equal(got.digest, image.digest);
  assert.deepEqual(await readAll(await dst.openBlob(image.layers[1]!)), image.layers[1]!.blob);
  await validateLayout(join(tmp, 'b'));
});
