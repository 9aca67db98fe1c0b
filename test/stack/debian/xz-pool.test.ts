import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decompressBuffer } from '../../../src/stack/debian/decompress.js';
import { XzPool } from '../../../src/stack/debian/xz-pool.js';

// `printf 'hello from xz\n' x3 | xz -c`, made with xz-utils 5.4.
const XZ = Buffer.from('/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4AApABVdADQZSe6N6RLmFA6/udJnpXFnCAwAAAAAAAC7x/o9z90jUwABMSpPe2A9H7bzfQEAAAAABFla', 'base64');
const TEXT = 'hello from xz\n'.repeat(3);

test('XzPool decodes on worker threads, many jobs at once, in any completion order', async () => {
  const pool = new XzPool(2);
  try {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.decode(XZ, `job ${i}`)));
    for (const r of results) assert.equal(r.toString(), TEXT);
  } finally {
    await pool.close();
  }
});

test('XzPool reports corrupt input as INVALID_ARCHIVE naming it, and keeps working', async () => {
  const pool = new XzPool(1);
  try {
    const bad = Buffer.from(XZ);
    bad[40] = bad[40]! ^ 0xff;
    await assert.rejects(pool.decode(bad, 'data.tar.xz of foo'), (e: Error & { code?: string }) => e.code === 'INVALID_ARCHIVE' && e.message.includes('data.tar.xz of foo'));
    await assert.rejects(pool.decode(XZ.subarray(0, 40), 'truncated'), /cannot decompress truncated \(xz\)/);
    assert.equal((await pool.decode(XZ, 'good')).toString(), TEXT);
  } finally {
    await pool.close();
  }
});

test('decompressBuffer decodes xz in-thread and gzip natively', async () => {
  assert.equal((await decompressBuffer(XZ, 'xz', 'x')).toString(), TEXT);
  const { gzipSync } = await import('node:zlib');
  assert.equal((await decompressBuffer(gzipSync(TEXT), 'gzip', 'g')).toString(), TEXT);
  await assert.rejects(decompressBuffer(Buffer.from('nope'), 'gzip', 'Packages.gz'), /cannot decompress Packages.gz \(gzip\)/);
});
