/** oci-archive: the writer against the conformance suite, skopeo reading what it writes, determinism. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createOciArchive } from '../../../../src/oci/store/archive/oci-archive.js';
import { openLayoutStore } from '../../../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../../../src/oci/store/layout/validate-layout.js';
import { buildTestImage, writeTestImage } from '../../../helpers/make-image.js';
import { needTool } from '../../../helpers/tools.js';
import { runStoreConformance } from '../../store-conformance.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cairn-oci-archive-'));
}

runStoreConformance('oci-archive writer', async () => {
  const dir = await tempDir();
  const store = await createOciArchive(join(dir, 'out.tar'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      assert.deepEqual((await readdir(dir)).filter((n) => n !== 'out.tar'), [], 'no staging left behind');
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test('an oci-archive is a valid layout in a tar, sorted, deterministic, holding only reachable blobs', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await buildTestImage({ label: 'a' });
  const b = await buildTestImage({ label: 'b' });
  const files: Buffer[] = [];
  for (const name of ['one.tar', 'two.tar']) {
    const w = await createOciArchive(join(dir, name));
    await writeTestImage(w, a, 'app');
    await writeTestImage(w, b, 'app'); // a is no longer reachable
    await writeTestImage(w, b, 'other');
    await w.close();
    files.push(await readFile(join(dir, name)));
  }
  assert.ok(files[0]!.equals(files[1]!));
  assert.deepEqual((await readdir(dir)).sort(), ['one.tar', 'two.tar']);
  const listing = execFileSync('tar', ['-tvf', join(dir, 'one.tar')], { encoding: 'utf8' }).trim().split('\n');
  const names = listing.map((l) => l.split(/\s+/).slice(-1)[0]!);
  const blobs = [b.digest, b.manifest.config.digest, ...b.layers.map((l) => l.digest)].map((d) => `blobs/sha256/${d.slice(7)}`).sort();
  assert.deepEqual(names, ['blobs/', 'blobs/sha256/', ...blobs, 'index.json', 'oci-layout']);
  assert.ok(listing.every((l) => l.includes('0/0') && l.includes('1980-01-01')));
  const out = join(dir, 'x');
  execFileSync('mkdir', [out]);
  execFileSync('tar', ['-xf', join(dir, 'one.tar'), '-C', out]);
  const report = await validateLayout(out);
  assert.deepEqual(report.tags, ['app', 'other']);
});

test('skopeo reads an oci-archive cairn wrote', async (t) => {
  if (!needTool(t, 'skopeo')) return;
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const w = await createOciArchive(join(dir, 'img.tar'));
  const image = await buildTestImage({ label: 'skopeo-archive' });
  await writeTestImage(w, image, 'myapp:v1');
  await w.close();
  const info = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${join(dir, 'img.tar')}:myapp:v1`], { encoding: 'utf8' })) as { Digest: string };
  assert.equal(info.Digest, image.digest);
  execFileSync('skopeo', ['copy', '--quiet', `oci-archive:${join(dir, 'img.tar')}:myapp:v1`, `oci:${join(dir, 'layout')}:copied`]);
  const store = await openLayoutStore(join(dir, 'layout'));
  assert.equal((await store.getManifest('copied')).digest, image.digest);
});
