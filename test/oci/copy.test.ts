/**
 * copy.ts over the fake registry: the requests a push makes (one HEAD per blob, no more), the config uploaded
 * beside the layers, mounts, and a corrupt source blob caught before anything is tagged.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { copyRef, writeImage } from '../../src/oci/copy.js';
import { digestHex } from '../../src/oci/digest.js';
import { CairnError } from '../../src/oci/errors.js';
import { loadImage } from '../../src/oci/image.js';
import type { Layer } from '../../src/oci/layer.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { staticCredentials } from '../../src/oci/auth/credentials.js';
import { openRegistryStore } from '../../src/oci/store/registry/registry-store.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { makeTestImage } from '../helpers/make-image.js';

async function withWork(fn: (dir: string, reg: FakeRegistry) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-copy-'));
  const reg = await FakeRegistry.start();
  try {
    await fn(dir, reg);
  } finally {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const registry = (reg: FakeRegistry, repository: string) => openRegistryStore({ host: reg.host, repository, insecure: true, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 50 } });

test('a push to an empty registry asks once per blob whether it is there, then POST + PUT; a second push only asks', async () => {
  await withWork(async (dir, reg) => {
    const src = await openLayoutStore(join(dir, 'layout'), { create: true });
    const img = await makeTestImage(src, 'app');
    const dst = registry(reg, 'team/app');
    const first = await copyRef(src, 'app', dst, 't');
    assert.equal(first.digest, img.digest);
    assert.equal(first.blobsWritten, 3);
    for (const d of [...img.layers.map((l) => l.digest), img.manifest.config.digest]) {
      assert.equal(reg.count('HEAD', new RegExp(`blobs/${d}`)).length, 1, `one HEAD for ${d}`);
    }
    assert.equal(reg.count('POST', /blobs\/uploads/).length, 3);
    assert.equal(reg.count('PUT', /digest=/).length, 3);
    assert.equal(reg.count('GET', /^\/v2\/$/).length, 0, 'no ping: without credentials the requests go out anonymously');
    const before = reg.requests.length;
    const second = await copyRef(src, 'app', dst, 't2');
    assert.equal(second.blobsSkipped, 3);
    assert.deepEqual(reg.requests.slice(before).map((r) => r.method).sort(), ['HEAD', 'HEAD', 'HEAD', 'PUT']);
    await dst.close();
    await src.close();
  });
});

test('with credentials, the registry is pinged while the source is read; a failed early ping is tried again by the first request', async () => {
  await withWork(async (dir, reg) => {
    const layout = await openLayoutStore(join(dir, 'layout'), { create: true });
    await makeTestImage(layout, 'app');
    reg.addFault({ method: 'GET', path: /^\/v2\/$/, fault: { status: 503 } });
    // The source's manifest is read only once the registry has been pinged.
    const src = Object.create(layout) as typeof layout;
    src.getManifest = async (ref: string) => {
      for (let i = 0; i < 200 && reg.requests.length === 0; i++) await sleep(10);
      assert.equal(reg.requests[0]?.path, '/v2/', 'no ping while the source was read');
      return layout.getManifest(ref);
    };
    const dst = openRegistryStore({ host: reg.host, repository: 'team/app', insecure: true, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 50 }, credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'ann', password: 'pw' } }) });
    const r = await copyRef(src, 'app', dst, 't');
    assert.equal(r.blobsWritten, 3);
    assert.deepEqual(reg.count('GET', /^\/v2\/$/).map((x) => x.status), [503, 200]);
    await dst.close();
    await layout.close();
  });
});

test('the config is uploaded while the layers still are', async () => {
  await withWork(async (dir, reg) => {
    const src = await openLayoutStore(join(dir, 'layout'), { create: true });
    await makeTestImage(src, 'app', { layers: [[{ path: 'a.txt', content: 'a' }]] });
    const image = await loadImage(src, 'app');
    const configDigest = image.manifest.config.digest;
    const configUploaded = async (): Promise<boolean> => {
      for (let i = 0; i < 200; i++) {
        if (reg.count('PUT', new RegExp(`digest=${encodeURIComponent(configDigest)}`)).length > 0) return true;
        await sleep(10);
      }
      return false;
    };
    // The only layer's bytes come once the config is in the registry: a config sent after the layers never arrives.
    const layer: Layer = { ...image.layers[0]!, compressed: async () => Readable.from((async function* () {
      assert.ok(await configUploaded(), 'the config was not uploaded while a layer was being sent');
      for await (const c of await image.layers[0]!.compressed()) yield c as Buffer;
    })()) };
    const dst = registry(reg, 'team/app');
    const r = await writeImage({ ...image, layers: [layer] }, dst, 't');
    assert.equal(r.blobsWritten, 2);
    await dst.close();
    await src.close();
  });
});

test('between repositories of one registry, layers are mounted after one HEAD each (the checked config is uploaded)', async () => {
  await withWork(async (dir, reg) => {
    const layout = await openLayoutStore(join(dir, 'layout'), { create: true });
    await makeTestImage(layout, 'app');
    const a = registry(reg, 'team/a');
    await copyRef(layout, 'app', a, 't');
    const before = reg.requests.length;
    const b = registry(reg, 'team/b');
    const r = await copyRef(a, 't', b, 't');
    assert.deepEqual([r.blobsMounted, r.blobsWritten], [2, 1]);
    const mine = reg.requests.slice(before).filter((x) => x.path.startsWith('/v2/team/b/'));
    assert.equal(mine.filter((x) => x.method === 'HEAD').length, 3);
    assert.equal(mine.filter((x) => x.method === 'POST' && /mount=/.test(x.path)).length, 2);
    assert.equal(mine.filter((x) => x.method === 'PUT' && /digest=/.test(x.path)).length, 1, 'only the config uploaded');
    await Promise.all([a.close(), b.close(), layout.close()]);
  });
});

test('an image written back where it was read (a rebase in place) asks nothing about its layers', async () => {
  await withWork(async (dir, reg) => {
    const layout = await openLayoutStore(join(dir, 'layout'), { create: true });
    await makeTestImage(layout, 'app');
    const a = registry(reg, 'team/a');
    await copyRef(layout, 'app', a, 't');
    const image = await loadImage(a, 't');
    const before = reg.requests.length;
    const r = await writeImage(image, a, 't2');
    assert.equal(r.blobsSkipped, image.layers.length + 1);
    assert.deepEqual(reg.requests.slice(before).map((x) => `${x.method} ${x.path.replace(/sha256:\w+/, 'D')}`), ['HEAD /v2/team/a/blobs/D', 'PUT /v2/team/a/manifests/t2'],
      'the config (a value, not a blob of the store) is asked about; the layers are not');
    await Promise.all([a.close(), layout.close()]);
  });
});

test('a layout blob changed on disk fails the push with DIGEST_MISMATCH naming the layout, and no tag is written', async () => {
  await withWork(async (dir, reg) => {
    const src = await openLayoutStore(join(dir, 'layout'), { create: true });
    const img = await makeTestImage(src, 'app');
    const layer = img.layers[0]!;
    const tampered = Buffer.from(layer.blob);
    tampered[tampered.length - 1]! ^= 0xff;
    await writeFile(join(dir, 'layout', 'blobs', 'sha256', digestHex(layer.digest)), tampered);
    const dst = registry(reg, 'team/app');
    await assert.rejects(copyRef(src, 'app', dst, 't'), (e: unknown) => {
      assert.ok(e instanceof CairnError && e.code === 'DIGEST_MISMATCH', String(e));
      assert.match(e.message, new RegExp(`blob ${layer.digest} in .*layout`));
      return true;
    });
    assert.equal(await dst.statBlob(layer.digest), undefined);
    assert.deepEqual(await dst.listTags(), []);
    await dst.close();
    await src.close();
  });
});
