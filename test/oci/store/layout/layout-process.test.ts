/**
 * The layout's inter-process lock and crash safety, with real processes: concurrent writers lose no
 * index update, a dead holder's lock is broken, a live one times out with STORE_LOCKED, and a writer
 * killed with SIGKILL at random moments always leaves a valid layout.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isCairnError } from '../../../../src/oci/errors.js';
import { openLayoutStore } from '../../../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../../../src/oci/store/layout/validate-layout.js';
import { buildTestImage, writeTestImage } from '../../../helpers/make-image.js';

const worker = fileURLToPath(new URL('./layout-worker.js', import.meta.url));

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-layout-proc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('two processes tagging 50 images each concurrently lose no index update', async (t) => {
  const dir = join(await tempDir(t), 'layout');
  await openLayoutStore(dir, { create: true });
  const children = ['a', 'b'].map((p) => fork(worker, ['tags', dir, p, '50'], { stdio: 'inherit' }));
  assert.deepEqual(await Promise.all(children.map(exited)), [0, 0]);
  const store = await openLayoutStore(dir);
  const tags = await store.listTags();
  const want = ['a', 'b'].flatMap((p) => Array.from({ length: 50 }, (_, i) => `${p}-${i}`)).sort();
  assert.deepEqual(tags, want);
  const report = await validateLayout(dir);
  assert.equal(report.tags.length, 100);
  assert.deepEqual((await readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
});

test('a lock left by a dead process is broken', async (t) => {
  const dir = join(await tempDir(t), 'layout');
  const store = await openLayoutStore(dir, { create: true, lockTimeoutMs: 5_000 });
  const dead = spawnSync('true').pid!;
  await writeFile(join(dir, 'index.json.lock'), JSON.stringify({ pid: dead, host: hostname(), time: new Date(0).toISOString() }));
  const image = await buildTestImage({ label: 'stale' });
  await writeTestImage(store, image, 'after-stale');
  assert.deepEqual(await store.listTags(), ['after-stale']);
  assert.deepEqual((await readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
});

test('a lock held by a live process times out with STORE_LOCKED and a hint', async (t) => {
  const dir = join(await tempDir(t), 'layout');
  const store = await openLayoutStore(dir, { create: true, lockTimeoutMs: 300 });
  await writeFile(join(dir, 'index.json.lock'), JSON.stringify({ pid: process.ppid, host: hostname(), time: new Date().toISOString() }));
  const image = await buildTestImage({ label: 'locked' });
  await assert.rejects(writeTestImage(store, image, 'blocked'), (e) => {
    assert.ok(isCairnError(e, 'STORE_LOCKED'), String(e));
    assert.match(e.message, new RegExp(`pid ${process.ppid}`));
    assert.match(e.hint ?? '', /index\.json\.lock/);
    return true;
  });
  await rm(join(dir, 'index.json.lock'));
  await writeTestImage(store, image, 'unblocked');
  assert.deepEqual(await store.listTags(), ['unblocked']);
});

test('a writer killed with SIGKILL at random moments always leaves a valid layout', async (t) => {
  const dir = join(await tempDir(t), 'layout');
  let temps = 0;
  const rounds = 24;
  for (let round = 0; round < rounds; round++) {
    const child = fork(worker, ['churn', dir, String(round)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const done = exited(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
    });
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
    child.kill('SIGKILL');
    await done;
    const report = await validateLayout(dir);
    temps += report.temps;
  }
  // The next writer recovers: stale locks are broken, temp files are ignored and collected.
  const store = await openLayoutStore(dir, { lockTimeoutMs: 5_000 });
  await writeTestImage(store, await buildTestImage({ label: 'after-crashes' }), 'final');
  assert.ok((await store.listTags()).includes('final'));
  const gc = await store.gc({ graceMs: 0 });
  const after = await validateLayout(dir);
  assert.equal(after.temps, 0);
  t.diagnostic(`${rounds} kills; temp files seen across rounds: ${temps}; gc removed ${gc.blobsRemoved} blobs (${gc.bytesRemoved} bytes), ${gc.tempsRemoved} temps`);
});
