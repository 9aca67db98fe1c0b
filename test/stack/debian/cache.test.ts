import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { ContentCache } from '../../../src/stack/debian/cache.js';
import { sha256hex } from '../helpers/fake-debian.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-cache-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('put stores by digest and read verifies it', async () => {
  const cache = new ContentCache(dir);
  const data = Buffer.from('package bytes');
  const hex = sha256hex(data);
  assert.equal(await cache.read(hex), undefined);
  await cache.put(hex, data, 'x.deb');
  assert.deepEqual(await cache.read(hex, data.length), data);
  assert.equal(await cache.has(hex, data.length), true);
  assert.equal(await cache.has(hex, data.length + 1), false, 'a size mismatch counts as absent (and drops the entry)');
});

test('a corrupt entry is dropped, never returned', async () => {
  const cache = new ContentCache(dir);
  const data = Buffer.from('original');
  const hex = sha256hex(data);
  await cache.put(hex, data, 'x');
  await writeFile(cache.path(hex), 'tampered');
  assert.equal(await cache.read(hex), undefined);
  assert.equal(await cache.has(hex), false);
});

test('putStream refuses content that does not match, leaving no file behind', async () => {
  const cache = new ContentCache(dir);
  const hex = sha256hex('expected');
  await assert.rejects(cache.putStream(hex, Readable.from([Buffer.from('something else')]), 'http://m/pool/x.deb'), (e: Error & { code?: string }) => e.code === 'DIGEST_MISMATCH' && e.message.startsWith('http://m/pool/x.deb'));
  await assert.rejects(cache.putStream(hex, Readable.from([Buffer.from('expected')]), 'y', 3), (e: Error & { code?: string }) => e.code === 'SIZE_MISMATCH');
  assert.equal(await cache.has(hex), false);
  assert.deepEqual((await readdir(join(dir, 'sha256'))).filter((n) => n.startsWith('.tmp-')), []);
});

test('bad digests are refused', () => {
  assert.throws(() => new ContentCache(dir).path('../../etc/passwd'), /invalid sha256/);
});
