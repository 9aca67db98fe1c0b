import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCairnError } from '../../../src/oci/errors.js';
import { cairnHome, openLocalStore } from '../../../src/oci/store/local.js';
import { validateLayout } from '../../../src/oci/store/layout/validate-layout.js';
import { makeTestImage } from '../../helpers/make-image.js';

test('cairnHome: CAIRN_HOME, then XDG_CACHE_HOME/cairn, then HOME/.cache/cairn', () => {
  assert.equal(cairnHome({ CAIRN_HOME: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c');
  assert.equal(cairnHome({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/cairn');
  assert.equal(cairnHome({ CAIRN_HOME: '', XDG_CACHE_HOME: '', HOME: '/h' }), '/h/.cache/cairn');
  assert.throws(() => cairnHome({}), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
});

test('the local store is a layout at <home>/store, created on first use', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'cairn-home-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const store = await openLocalStore(join(home, 'cairn'));
  const image = await makeTestImage(store, 'myapp:latest');
  await makeTestImage(store, 'myapp:v2', { label: 'v2' });
  const again = await openLocalStore(join(home, 'cairn'));
  assert.deepEqual(await again.listTags(), ['myapp:latest', 'myapp:v2']);
  assert.equal((await again.getManifest('myapp:latest')).digest, image.digest);
  assert.deepEqual(await readdir(join(home, 'cairn')), ['store']);
  await validateLayout(join(home, 'cairn', 'store'));
});
