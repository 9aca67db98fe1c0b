/** RegistryStore against the in-process fake registry: uploads, mounts, retries, faults, verification, auth. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Readable } from 'node:stream';
import { staticCredentials } from '../../../../src/oci/auth/credentials.js';
import { type Digest, sha256 } from '../../../../src/oci/digest.js';
import { CairnError } from '../../../../src/oci/errors.js';
import { MediaType } from '../../../../src/oci/media-types.js';
import type { ProgressEvent } from '../../../../src/oci/progress.js';
import { openRegistryStore, registryApiHost, type RegistryStoreOptions } from '../../../../src/oci/store/registry/registry-store.js';
import { CountingProxy } from '../../../helpers/counting-proxy.js';
import { FakeRegistry, type FakeRegistryOptions } from '../../../helpers/fake-registry.js';

const fast = { attempts: 4, baseDelayMs: 5, maxDelayMs: 2000 };

async function withRegistry(opts: FakeRegistryOptions, fn: (reg: FakeRegistry) => Promise<void>): Promise<void> {
  const reg = await FakeRegistry.start(opts);
  try {
    await fn(reg);
  } finally {
    await reg.stop();
  }
}

function open(reg: FakeRegistry, extra: Partial<RegistryStoreOptions> = {}) {
  return openRegistryStore({ host: reg.host, repository: 'team/app', insecure: true, retry: fast, ...extra });
}

const source = (data: Buffer) => async () => Readable.from([data]);

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function code(expected: string, pattern?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CairnError, `expected a CairnError, got ${String(e)}`);
    assert.equal(e.code, expected, e.message);
    if (pattern) assert.match(`${e.message}\n${e.hint ?? ''}`, pattern);
    return true;
  };
}

function manifestFor(config: Buffer, layers: Buffer[]): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: MediaType.OciLayerGzip, digest: sha256(l), size: l.length })),
  }));
}

test('docker.io and index.docker.io are served by registry-1.docker.io', () => {
  assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('index.docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('127.0.0.1:5000'), '127.0.0.1:5000');
  const s = openRegistryStore({ host: 'docker.io', repository: 'library/node' });
  assert.deepEqual(s.location, { host: 'docker.io', repository: 'library/node' });
  assert.equal(s.name, 'docker.io/library/node');
});

describe('blobs', () => {
  test('a small blob goes up monolithically (POST + PUT), comes back verified, and is not sent twice', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg, { chunkSize: 1024 });
      const data = randomBytes(1000);
      const d = sha256(data);
      const events: ProgressEvent[] = [];
      assert.equal(await store.statBlob(d), undefined);
      assert.equal(await store.putBlob({ digest: d, size: data.length }, source(data), { progress: (e) => events.push(e) }), true);
      assert.equal(reg.count('POST', /blobs\/uploads/).length, 1);
      assert.equal(reg.count('PATCH').length, 0);
      assert.equal(reg.count('PUT', /digest=/)[0]?.bytesIn, 1000);
      assert.deepEqual(events.map((e) => e.kind), ['blob-start', 'blob-done']);
      assert.equal(await store.statBlob(d), 1000);
      assert.deepEqual(await readAll(await store.openBlob({ digest: d, size: 1000 })), data);
      const before = reg.requests.length;
      assert.equal(await store.putBlob({ digest: d, size: data.length }, source(data), { progress: (e) => events.push(e) }), false);
      assert.deepEqual(reg.requests.slice(before).map((r) => r.method), ['HEAD']);
      assert.deepEqual(events.at(-1), { kind: 'blob-done', digest: d, total: 1000, action: 'skip' });
      await store.close();
    });
  });

  test('a large blob goes up in PATCH chunks of chunkSize with Content-Range, then PUT ?digest=', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg, { chunkSize: 1000 });
      const data = randomBytes(3500);
      const d = sha256(data);
      const events: ProgressEvent[] = [];
      assert.equal(await store.putBlob({ digest: d, size: data.length }, async () => Readable.from([data.subarray(0, 1700), data.subarray(1700)]), { progress: (e) => events.push(e) }), true);
      assert.deepEqual(reg.count('PATCH').map((r) => r.bytesIn), [1000, 1000, 1000, 500]);
      const put = reg.count('PUT', /digest=/);
      assert.equal(put.length, 1);
      assert.equal(put[0]!.bytesIn, 0);
      assert.deepEqual(reg.blobs.get(d), data);
      assert.deepEqual(events.filter((e) => e.kind === 'blob-progress').map((e) => (e as { done: number }).done), [1000, 2000, 3000, 3500]);
      await store.close();
    });
  });

  test('chunks are at least the registry\'s OCI-Chunk-Min-Length', async () => {
    await withRegistry({ chunkMinLength: 2000 }, async (reg) => {
      const store = open(reg, { chunkSize: 1000 });
      const data = randomBytes(4500);
      await store.putBlob({ digest: sha256(data), size: data.length }, source(data));
      assert.deepEqual(reg.count('PATCH').map((r) => r.bytesIn), [2000, 2000, 500]);
      await store.close();
    });
  });

  test('content that does not match the descriptor fails with DIGEST_MISMATCH / SIZE_MISMATCH and is not stored', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg, { chunkSize: 1000 });
      const claimed = sha256('something else');
      for (const size of [500, 2500]) {
        await assert.rejects(store.putBlob({ digest: claimed, size }, source(randomBytes(size))), code('DIGEST_MISMATCH'));
      }
      await assert.rejects(store.putBlob({ digest: claimed, size: 10 }, source(randomBytes(11))), code('SIZE_MISMATCH'));
      assert.equal(reg.blobs.size, 0);
      assert.equal(reg.count('PUT', /digest=/).filter((r) => r.status === 201).length, 0);
      assert.equal(reg.uploads.size, 0, 'failed upload sessions are cancelled');
      await store.close();
    });
  });

  test('a blob whose bytes changed in the registry fails with DIGEST_MISMATCH when read', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      const d = reg.seedBlob('team/app', Buffer.from('original'));
      reg.blobs.set(d, Buffer.from('tampered'));
      await assert.rejects(readAll(await store.openBlob({ digest: d as Digest })), code('DIGEST_MISMATCH', /tampered|does not match/));
      await assert.rejects(store.openBlob({ digest: sha256('absent') }), code('BLOB_NOT_FOUND', /team\/app/));
      await store.close();
    });
  });

  test('downloads follow redirects', async () => {
    await withRegistry({ redirectBlobs: true }, async (reg) => {
      const store = open(reg);
      const data = randomBytes(5000);
      const d = reg.seedBlob('team/app', data);
      assert.deepEqual(await readAll(await store.openBlob({ digest: d as Digest, size: 5000 })), data);
      assert.equal(reg.requests.filter((r) => r.path.startsWith('/_blob/')).length, 1);
      await store.close();
    });
  });

  test('a download cut mid-body resumes with Range and still verifies', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      const data = randomBytes(1 << 20);
      const d = reg.seedBlob('team/app', data);
      reg.addFault({ method: 'GET', path: /\/blobs\/sha256:/, fault: { resetAfterBytes: 300_000 } });
      const events: ProgressEvent[] = [];
      const got = await readAll(await store.openBlob({ digest: d as Digest, size: data.length }, { progress: (e) => events.push(e) }));
      assert.deepEqual(got, data);
      const gets = reg.count('GET', /\/blobs\/sha256:/);
      assert.equal(gets.length, 2);
      assert.ok(gets[1]!.bytesOut < data.length, 'the second GET sent only the rest');
      assert.equal(gets[0]!.bytesOut + gets[1]!.bytesOut, data.length);
      assert.equal(events.filter((e) => e.kind === 'retry').length, 1);
      assert.equal(events.at(-1)?.kind, 'blob-done');
      await store.close();
    });
  });

  test('a download whose body ends cleanly but short resumes with Range', async () => {
    await withRegistry({}, async (reg) => {
      const data = randomBytes(1 << 20);
      const d = reg.seedBlob('team/app', data);
      let cut = false;
      const proxy = await CountingProxy.start(reg.host, {
        onRequest: (req) => (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url!) && !cut ? ((cut = true), { truncateAfterResponseBytes: 300_000 }) : undefined),
      });
      try {
        const store = openRegistryStore({ host: proxy.host, repository: 'team/app', insecure: true, retry: fast });
        assert.deepEqual(await readAll(await store.openBlob({ digest: d as Digest, size: data.length })), data);
        const gets = proxy.records.filter((r) => r.method === 'GET' && r.path.includes('/blobs/sha256:'));
        assert.deepEqual(gets.map((r) => r.responseBytes), [300_000, data.length - 300_000]);
        await store.close();
      } finally {
        await proxy.stop();
      }
    });
  });

  test('a chunked upload cut mid-PATCH resumes from the registry\'s Range', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg, { chunkSize: 10_000 });
      const data = randomBytes(35_000);
      reg.addFault({ method: 'PATCH', fault: { resetAfterBytes: 4000 } });
      await store.putBlob({ digest: sha256(data), size: data.length }, source(data));
      assert.deepEqual(reg.blobs.get(sha256(data)), data);
      assert.equal(reg.count('POST').length, 1, 'the session was resumed, not restarted');
      assert.equal(reg.count('GET', /blobs\/uploads\//).length, 1, 'one status request');
      const patches = reg.count('PATCH');
      assert.equal(patches.length, 5);
      assert.equal(patches.filter((r) => r.status === 202).reduce((n, r) => n + r.bytesIn, 0), 35_000 - 4000, 'only the rest of the cut chunk was sent again');
      await store.close();
    });
  });

  test('a monolithic upload cut mid-PUT starts over with a new session', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      const data = randomBytes(100_000);
      reg.addFault({ method: 'PUT', path: /blobs\/uploads/, fault: { resetAfterBytes: 30_000 } });
      let opened = 0;
      await store.putBlob({ digest: sha256(data), size: data.length }, async () => (opened++, Readable.from([data])));
      assert.equal(opened, 2);
      assert.equal(reg.count('POST').length, 2);
      assert.deepEqual(reg.blobs.get(sha256(data)), data);
      await store.close();
    });
  });

  test('mount: 201 mounts without uploading; a declined mount (202) returns false and cancels its session', async () => {
    await withRegistry({}, async (reg) => {
      const data = randomBytes(2000);
      const d = reg.seedBlob('base/run', data) as Digest;
      const store = open(reg);
      const events: ProgressEvent[] = [];
      assert.equal(await store.mountBlob({ digest: d, size: 2000 }, { host: reg.host, repository: 'base/run' }, { progress: (e) => events.push(e) }), true);
      assert.equal(reg.count('POST')[0]!.path, `/v2/team/app/blobs/uploads/?mount=${encodeURIComponent(d)}&from=base%2Frun`);
      assert.equal(reg.count('PATCH').length + reg.count('PUT').length, 0);
      assert.equal(await store.statBlob(d), 2000);
      assert.deepEqual(events, [{ kind: 'blob-done', digest: d, total: 2000, action: 'mount' }]);

      const other = sha256('not there');
      assert.equal(await store.mountBlob({ digest: other, size: 9 }, { host: reg.host, repository: 'base/run' }), false);
      assert.equal(reg.count('DELETE', /blobs\/uploads\//).length, 1);
      assert.equal(reg.uploads.size, 0);
      const n = reg.requests.length;
      assert.equal(await store.mountBlob({ digest: d, size: 2000 }, { host: 'elsewhere.example', repository: 'base/run' }), false);
      assert.equal(reg.requests.length, n, 'no request for another registry');
      await store.close();
    });
  });
});

describe('retries', () => {
  test('5xx answers are retried with backoff, reported as retry events, then succeed', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      reg.seedBlob('team/app', Buffer.from('x'));
      reg.addFault({ method: 'GET', path: /tags/, times: 1, fault: { status: 503 } });
      reg.addFault({ method: 'GET', path: /tags/, times: 1, fault: { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"boom"}]}' } });
      const events: ProgressEvent[] = [];
      assert.deepEqual(await store.listTags({ progress: (e) => events.push(e) }), []);
      assert.equal(reg.count('GET', /tags/).length, 3);
      const retries = events.filter((e) => e.kind === 'retry');
      assert.equal(retries.length, 2);
      assert.match((retries[1] as { reason: string }).reason, /HTTP 500: UNKNOWN: boom/);
      await store.close();
    });
  });

  test('Retry-After (seconds and HTTP date) is honoured', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      const d = reg.seedBlob('team/app', Buffer.from('x')) as Digest;
      reg.addFault({ method: 'HEAD', fault: { status: 429, headers: { 'retry-after': '1' } } });
      const events: ProgressEvent[] = [];
      let t0 = performance.now();
      assert.equal(await store.statBlob(d, { progress: (e) => events.push(e) }), 1);
      let elapsed = performance.now() - t0;
      assert.ok(elapsed >= 990 && elapsed < 1800, `waited ${elapsed} ms`);
      assert.equal((events[0] as { delayMs: number }).delayMs, 1000);

      const date = new Date(Date.UTC(2030, 0, 1, 0, 0, 0));
      const headers = { date: date.toUTCString(), 'retry-after': new Date(date.getTime() + 2000).toUTCString() };
      reg.addFault({ method: 'HEAD', fault: { status: 503, headers } });
      t0 = performance.now();
      assert.equal(await store.statBlob(d), 1);
      elapsed = performance.now() - t0;
      assert.ok(elapsed >= 1990 && elapsed < 2800, `waited ${elapsed} ms`);
      await store.close();
    });
  });

  test('a Retry-After longer than maxDelayMs fails at once with TOO_MANY_REQUESTS', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      reg.addFault({ method: 'HEAD', fault: { status: 429, headers: { 'retry-after': '3600' } } });
      const t0 = performance.now();
      await assert.rejects(store.statBlob(sha256('x')), code('TOO_MANY_REQUESTS', /3600 s/));
      assert.ok(performance.now() - t0 < 500);
      await store.close();
    });
  });

  test('attempts are bounded: a registry that keeps failing gives REGISTRY_ERROR with its error body', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      reg.addFault({ method: 'GET', path: /manifests/, times: 10, fault: { status: 502, body: '{"errors":[{"code":"UNAVAILABLE","message":"backend down"}]}' } });
      await assert.rejects(store.getManifest('latest'), code('REGISTRY_ERROR', /HTTP 502: UNAVAILABLE: backend down/));
      assert.equal(reg.count('GET', /manifests/).length, fast.attempts);
      await store.close();
    });
  });

  test('a stalled response is cut by the timeout and retried', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg, { fetchTimeoutMs: 300 });
      const d = reg.seedBlob('team/app', Buffer.from('x')) as Digest;
      reg.addFault({ method: 'HEAD', fault: { delayMs: 1500 } });
      const events: ProgressEvent[] = [];
      const t0 = performance.now();
      assert.equal(await store.statBlob(d, { progress: (e) => events.push(e) }), 1);
      assert.ok(performance.now() - t0 < 1200);
      assert.match((events[0] as { reason: string }).reason, /timed out/);
      await store.close();
    });
  });
});

describe('manifests and tags', () => {
  /**
   * A registry behind a proxy that flips a byte of manifest PUTs: `flip(n)` gives the offset to flip in the
   * n-th PUT of a manifest (from 1), or undefined to let it through. Runs `fn` with a store through the proxy,
   * the manifest (its annotation "note" is where offsets into `at` land) and the manifest the tag names before.
   */
  async function withFlippingProxy(flip: (n: number, at: number) => number | undefined, fn: (ctx: {
    reg: FakeRegistry; proxy: CountingProxy; store: ReturnType<typeof openRegistryStore>; bytes: Buffer; previous: Buffer;
  }) => Promise<void>): Promise<void> {
    await withRegistry({}, async (reg) => {
      const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
      await open(reg).putBlob({ digest: sha256(config), size: config.length }, source(config));
      const withNote = (note: string) => Buffer.from(JSON.stringify({ ...JSON.parse(manifestFor(config, []).toString()), annotations: { note } }));
      const previous = withNote('before');
      await open(reg).putManifest({ mediaType: MediaType.OciManifest, bytes: previous }, 'v1');
      const bytes = withNote('a'.repeat(16));
      let puts = 0;
      const proxy = await CountingProxy.start(reg.host, {
        onRequest: (req) => {
          if (req.method !== 'PUT' || !/\/manifests\//.test(req.url!)) return undefined;
          const at = flip(++puts, bytes.indexOf('aaaa'));
          return at === undefined ? undefined : { corruptRequestByte: at };
        },
      });
      const store = openRegistryStore({ host: proxy.host, repository: 'team/app', insecure: true, retry: fast });
      try {
        await fn({ reg, proxy, store, bytes, previous });
      } finally {
        await store.close();
        await proxy.stop();
      }
    });
  }
  const manifestPuts = (proxy: CountingProxy) => proxy.records.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/')).length;

  test('a manifest changed on its way to the registry is sent again, so the tag ends on the one meant', async () => {
    await withFlippingProxy((n, at) => (n === 1 ? at + 2 : undefined), async ({ reg, proxy, store, bytes }) => {
      assert.equal(await store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'v1'), sha256(bytes));
      assert.equal(reg.repos.get('team/app')!.tags.get('v1'), sha256(bytes), 'the tag names the manifest sent');
      assert.equal(manifestPuts(proxy), 2, 'sent twice: the first arrived changed');
    });
  });

  test('a 400 for bytes the registry stored before is taken as another change on the way, and they are sent again', async () => {
    // The second send loses its opening brace: invalid JSON, refused with 400 MANIFEST_INVALID.
    await withFlippingProxy((n, at) => (n === 1 ? at + 2 : n === 2 ? 0 : undefined), async ({ reg, proxy, store, bytes }) => {
      assert.equal(await store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'v1'), sha256(bytes));
      assert.equal(reg.repos.get('team/app')!.tags.get('v1'), sha256(bytes));
      assert.equal(manifestPuts(proxy), 3);
    });
  });

  test('a manifest sent by digest that arrives changed (400 DIGEST_INVALID) is sent again', async () => {
    await withFlippingProxy((n, at) => (n === 1 ? at + 2 : undefined), async ({ reg, proxy, store, bytes }) => {
      assert.equal(await store.putManifest({ mediaType: MediaType.OciManifest, bytes }), sha256(bytes));
      assert.ok(reg.repos.get('team/app')!.manifests.has(sha256(bytes)));
      assert.equal(manifestPuts(proxy), 2);
    });
  });

  test('a manifest that keeps arriving changed fails with DIGEST_MISMATCH, and the tag is put back on the image before', async () => {
    // Every send of the manifest is changed at another byte; the 9th PUT, of the image before, goes through.
    await withFlippingProxy((n, at) => (n <= 8 ? at + n : undefined), async ({ reg, proxy, store, bytes, previous }) => {
      await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'v1', { previous: { mediaType: MediaType.OciManifest, bytes: previous } }),
        code('DIGEST_MISMATCH', /\(8 sends\).*names the image before again.*check proxies/s));
      assert.equal(reg.repos.get('team/app')!.tags.get('v1'), sha256(previous), 'the tag names the image before');
      assert.equal(manifestPuts(proxy), 9);
    });
    // Without the image before, the error says the tag is left on the bytes last stored.
    await withFlippingProxy((n, at) => at + n, async ({ reg, store, bytes }) => {
      const err = await store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'v1').catch((e: unknown) => e);
      assert.ok(code('DIGEST_MISMATCH', /now names those bytes/)(err));
      assert.match((err as Error).message, new RegExp(reg.repos.get('team/app')!.tags.get('v1')!));
    });
  });

  test('a registry that stores the same other bytes twice rewrites manifests: no third send', async () => {
    await withFlippingProxy((n, at) => (n <= 2 ? at : undefined), async ({ proxy, store, bytes }) => {
      await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'v1'), code('DIGEST_MISMATCH', /\(2 sends\).*rewrites manifests/s));
      assert.equal(manifestPuts(proxy), 2);
    });
  });

  test('put and get by tag and digest, with Accept and Content-Type', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
      await store.putBlob({ digest: sha256(config), size: config.length }, source(config));
      const bytes = manifestFor(config, []);
      const digest = await store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'v1');
      assert.equal(digest, sha256(bytes));
      const byTag = await store.getManifest('v1');
      assert.deepEqual(byTag, { mediaType: MediaType.OciManifest, digest, bytes });
      assert.deepEqual(await store.getManifest(digest), byTag);
      assert.equal(reg.repos.get('team/app')!.manifests.get(digest)!.mediaType, MediaType.OciManifest);
      await assert.rejects(store.getManifest('nope'), code('MANIFEST_NOT_FOUND', /team\/app:nope/));
      // a manifest whose blobs are missing is refused by the registry
      await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes: manifestFor(Buffer.from('{}'), []) }, 'v2'), code('BLOB_NOT_FOUND', /MANIFEST_BLOB_UNKNOWN/));
      await store.close();
    });
  });

  test('a manifest whose bytes do not match: by digest, or against Docker-Content-Digest → DIGEST_MISMATCH', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      const body = '{"schemaVersion":2,"manifests":[]}';
      reg.addFault({ method: 'GET', path: /manifests/, fault: { status: 200, headers: { 'content-type': MediaType.OciIndex }, body } });
      await assert.rejects(store.getManifest(sha256('other')), code('DIGEST_MISMATCH'));
      reg.addFault({ method: 'GET', path: /manifests/, fault: { status: 200, headers: { 'content-type': MediaType.OciIndex, 'docker-content-digest': sha256('other') }, body } });
      await assert.rejects(store.getManifest('latest'), code('DIGEST_MISMATCH', /Docker-Content-Digest|says the digest/));
      reg.addFault({ method: 'GET', path: /manifests/, fault: { status: 200, headers: { 'content-type': 'application/json' }, body } });
      assert.equal((await store.getManifest('latest')).mediaType, MediaType.OciIndex, 'media type from the document\'s shape');
      await store.close();
    });
  });

  test('tag lists follow Link pagination; an unknown repository has no tags', async () => {
    await withRegistry({ tagPageSize: 2 }, async (reg) => {
      const store = open(reg);
      assert.deepEqual(await store.listTags(), []);
      const config = Buffer.from('{}');
      await store.putBlob({ digest: sha256(config), size: 2 }, source(config));
      const bytes = manifestFor(config, []);
      for (const t of ['e', 'a', 'd', 'b', 'c']) await store.putManifest({ mediaType: MediaType.OciManifest, bytes }, t);
      assert.deepEqual(await store.listTags(), ['a', 'b', 'c', 'd', 'e']);
      assert.equal(reg.count('GET', /tags\/list/).length, 1 + 3);
      await store.close();
    });
  });

  for (const tagDelete of [true, false]) {
    test(`deleteTag removes only that tag (${tagDelete ? 'DELETE by tag' : 'distribution 2.x: placeholder manifest'})`, async () => {
      await withRegistry({ tagDelete }, async (reg) => {
        const store = open(reg);
        const config = Buffer.from('{}');
        await store.putBlob({ digest: sha256(config), size: 2 }, source(config));
        const bytes = manifestFor(config, []);
        await store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'one');
        await store.putManifest({ mediaType: MediaType.OciManifest, bytes }, 'two');
        await store.deleteTag('one');
        assert.deepEqual(await store.listTags(), ['two']);
        assert.deepEqual((await store.getManifest('two')).bytes, bytes);
        await assert.rejects(store.deleteTag('missing'), code('MANIFEST_NOT_FOUND'));
        await store.close();
      });
    });
  }

  test('deleteTag on a registry with deletes disabled is UNSUPPORTED and leaves the tag', async () => {
    await withRegistry({}, async (reg) => {
      const store = open(reg);
      const config = Buffer.from('{}');
      await store.putBlob({ digest: sha256(config), size: 2 }, source(config));
      await store.putManifest({ mediaType: MediaType.OciManifest, bytes: manifestFor(config, []) }, 'one');
      reg.addFault({ method: 'DELETE', times: 5, fault: { status: 405, body: '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}' } });
      await assert.rejects(store.deleteTag('one'), code('UNSUPPORTED', /storage\.delete/));
      assert.deepEqual(await store.listTags(), ['one']);
      await store.close();
    });
  });
});

describe('authentication', () => {
  test('Basic: no credentials → UNAUTHORIZED naming the registry with a docker login hint; wrong → rejected; right → works', async () => {
    await withRegistry({ auth: { kind: 'basic', users: { ann: 'secret' } } }, async (reg) => {
      const anon = open(reg);
      await assert.rejects(anon.listTags(), code('UNAUTHORIZED', new RegExp(`${reg.host}.*requires authentication[^]*docker login ${reg.host}[^]*config\\.json`)));
      const wrong = open(reg, { credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'ann', password: 'nope' } }) });
      await assert.rejects(wrong.listTags(), code('UNAUTHORIZED', /rejected the credentials of user "ann"/));
      const right = open(reg, { credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'ann', password: 'secret' } }) });
      assert.deepEqual(await right.listTags(), []);
      assert.match(reg.requests.at(-1)!.authorization!, /^Basic /);
      await Promise.all([anon.close(), wrong.close(), right.close()]);
    });
  });

  test('Bearer: one token per scope set, push asks pull,push, mount adds the source repository; expired tokens are renewed', async () => {
    await withRegistry({ auth: { kind: 'bearer', users: { ann: 'secret' } } }, async (reg) => {
      const store = open(reg, { credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'ann', password: 'secret' } }) });
      const data = randomBytes(100);
      await store.statBlob(sha256(data));
      await store.statBlob(sha256('again'));
      await store.putBlob({ digest: sha256(data), size: 100 }, source(data));
      reg.seedBlob('base/run', Buffer.from('base layer'));
      await store.mountBlob({ digest: sha256('base layer'), size: 10 }, { host: reg.host, repository: 'base/run' });
      assert.deepEqual(reg.tokenRequests, [
        { user: 'ann', scopes: ['repository:team/app:pull'] },
        { user: 'ann', scopes: ['repository:team/app:pull,push'] },
        { user: 'ann', scopes: ['repository:team/app:pull,push', 'repository:base/run:pull'] },
      ]);
      reg.revokeTokens();
      assert.equal(await store.statBlob(sha256(data)), 100);
      assert.equal(reg.tokenRequests.length, 4);
      await store.close();
    });
  });

  test('Bearer: a pull-only user can pull but pushing is DENIED; a refused mount source is a declined mount', async () => {
    const grants = (user: string | undefined, repo: string) => (user === 'reader' || repo === 'base/run' ? ['pull'] : []);
    await withRegistry({ auth: { kind: 'bearer', users: { reader: 'pw' }, grants } }, async (reg) => {
      reg.seedBlob('team/app', Buffer.from('x'));
      const store = open(reg, { credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'reader', password: 'pw' } }) });
      assert.equal(await store.statBlob(sha256('x')), 1);
      const data = Buffer.from('new layer');
      await assert.rejects(store.putBlob({ digest: sha256(data), size: data.length }, source(data)), code('DENIED', /did not grant repository:team\/app:pull,push to user "reader"/));
      assert.equal(await store.mountBlob({ digest: sha256('x'), size: 1 }, { host: reg.host, repository: 'base/run' }), false);
      const anon = open(reg);
      await assert.rejects(anon.statBlob(sha256('x')), code('UNAUTHORIZED', /requires authentication[^]*docker login/));
      await Promise.all([store.close(), anon.close()]);
    });
  });

  test('without credentials nothing is pinged: the first requests go out anonymously, a 401 brings the challenge, and one anonymous token serves them all', async () => {
    const grants = (user: string | undefined) => (user === undefined ? ['pull'] : ['pull', 'push']);
    await withRegistry({ auth: { kind: 'bearer', users: { ann: 'secret' }, grants } }, async (reg) => {
      reg.seedBlob('team/app', Buffer.from('x'));
      const anon = open(reg);
      const sizes = await Promise.all([sha256('x'), sha256('y'), sha256('z')].map((d) => anon.statBlob(d)));
      assert.deepEqual(sizes, [1, undefined, undefined]);
      assert.equal(reg.count('GET', /^\/v2\/$/).length, 0, 'no ping');
      assert.deepEqual(reg.tokenRequests, [{ user: undefined, scopes: ['repository:team/app:pull'] }], 'one anonymous token for the three');
      assert.equal(await anon.statBlob(sha256('x')), 1);
      assert.equal(reg.tokenRequests.length, 1, 'the token is reused');
      await anon.close();
    });
  });

  test('Bearer: an identity token is exchanged with POST grant_type=refresh_token', async () => {
    await withRegistry({ auth: { kind: 'bearer', users: {}, refreshTokens: { 'refresh-123': 'ann' } } }, async (reg) => {
      const store = open(reg, { credentials: staticCredentials({ [reg.host]: { kind: 'identity-token', token: 'refresh-123' } }) });
      assert.deepEqual(await store.listTags(), []);
      assert.deepEqual(reg.tokenRequests, [{ user: 'ann', scopes: ['repository:team/app:pull'] }]);
      assert.equal(reg.count('POST', /^\/token/).length, 1);
      const bad = open(reg, { credentials: staticCredentials({ [reg.host]: { kind: 'identity-token', token: 'stale' } }) });
      await assert.rejects(bad.listTags(), code('UNAUTHORIZED', /identity token/));
      await Promise.all([store.close(), bad.close()]);
    });
  });

  test('Bearer: wrong credentials at the token server → UNAUTHORIZED', async () => {
    await withRegistry({ auth: { kind: 'bearer', users: { ann: 'secret' } } }, async (reg) => {
      const store = open(reg, { credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'ann', password: 'bad' } }) });
      await assert.rejects(store.listTags(), code('UNAUTHORIZED', /rejected the credentials of user "ann"[^]*docker login/));
      await store.close();
    });
  });
});

describe('connection errors', () => {
  let reg: FakeRegistry;
  before(async () => (reg = await FakeRegistry.start()));
  after(() => reg.stop());

  test('an abort signal stops a stalled request and its retries', async () => {
    reg.addFault({ path: /tags/, fault: { delayMs: 3000 } });
    const store = openRegistryStore({ host: reg.host, repository: 'a', insecure: true, retry: fast });
    const t0 = performance.now();
    await assert.rejects(store.listTags({ signal: AbortSignal.timeout(200) }), (e: Error) => e.name === 'TimeoutError' || e.name === 'AbortError');
    assert.ok(performance.now() - t0 < 1000);
    await store.close();
  });

  test('nothing listening → UNREACHABLE naming the host, hinting --insecure-registry', async () => {
    const probe = await FakeRegistry.start();
    const host = probe.host;
    await probe.stop();
    const store = openRegistryStore({ host, repository: 'a', retry: { attempts: 2, baseDelayMs: 5 } });
    await assert.rejects(store.statBlob(sha256('x')), code('UNREACHABLE', new RegExp(`cannot reach registry ${host}[^]*--insecure-registry ${host}`)));
    await store.close();
  });

  test('plain HTTP to an HTTPS server → TLS error saying so', async () => {
    reg.addFault({ path: /tags/, fault: { status: 400, body: 'Client sent an HTTP request to an HTTPS server.\n' } });
    const store = openRegistryStore({ host: reg.host, repository: 'a', insecure: true, retry: fast });
    await assert.rejects(store.listTags(), code('TLS', /serves HTTPS[^]*drop --insecure-registry/));
    await store.close();
  });

  test('HTTPS to a plain-HTTP registry → TLS error hinting --insecure-registry', async () => {
    const store = openRegistryStore({ host: reg.host, repository: 'a', retry: fast });
    await assert.rejects(store.statBlob(sha256('x')), code('TLS', /--insecure-registry/));
    await store.close();
  });
});
