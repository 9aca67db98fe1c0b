/**
 * The record of cairn's own layer blobs: a layer recorded after an export is found again by diffID while the
 * store holds its blob, and never when the blob is gone or another compressor (zlib version) is asking.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeImage } from '../../src/oci/copy.js';
import { makeImage } from '../../src/oci/image.js';
import { fileLayer } from '../../src/oci/layer.js';
import { writeLayer } from '../../src/oci/layer/tar-writer.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { layerDigests } from '../../src/platform/layer-digests.js';

test('a recorded layer is known while its blob is in the store, for the same zlib only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-layer-digests-'));
  try {
    const path = join(dir, 'layer.tar.gz');
    const layer = fileLayer(path, await writeLayer([{ type: 'file', path: 'hello.txt', data: 'hello' }], path));
    const store = await openLayoutStore(join(dir, 'store'), { create: true });
    const digests = layerDigests(join(dir, 'home'), '1.3.1', store);
    assert.equal(await digests.known(layer.diffID), undefined, 'nothing recorded yet');

    await digests.record([layer]);
    assert.equal(await digests.known(layer.diffID), undefined, 'recorded, but the store has no such blob');

    await writeImage(makeImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, [layer]), store, 'app');
    const known = await digests.known(layer.diffID);
    assert.equal(known?.digest, layer.digest);
    assert.equal(known?.size, layer.size);
    assert.equal(known?.origin, store);
    assert.equal(await layerDigests(join(dir, 'home'), '1.3.2', store).known(layer.diffID), undefined, 'another compressor');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
