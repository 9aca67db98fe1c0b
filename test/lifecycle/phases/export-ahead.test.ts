/**
 * Export ahead, over real layer folders: a built buildpack's launch and cache layers are exported one at a
 * time in its layer order, with the outcome the exporter would compute; nothing starts after `stop`; a
 * failure waits for `take` (never an unhandled rejection); `settle` returns only once no layer is being written.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BuiltBuildpack, BuiltLayer } from '../../../src/lifecycle/phases/build-result.js';
import { ExportAhead } from '../../../src/lifecycle/phases/export-ahead.js';
import { exportLayer, type LayerExportContext, layerJobs } from '../../../src/lifecycle/phases/layer-export.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-export-ahead-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const layer = (name: string, types: Partial<BuiltLayer['types']>, hasDir = true): BuiltLayer => ({
  name, types: { launch: false, build: false, cache: false, ...types }, metadata: { name }, hasDir,
});

/** A context over a fresh `<layers>` whose buildpack `test/a` has the given layer folders (name → file bytes). */
async function setup(folders: Record<string, Buffer>): Promise<LayerExportContext> {
  const root = await mkdtemp(join(dir, 'case-'));
  const layersDir = join(root, 'layers');
  for (const [name, bytes] of Object.entries(folders)) {
    await mkdir(join(layersDir, 'test_a', name, 'bin'), { recursive: true });
    await writeFile(join(layersDir, 'test_a', name, 'bin', 'tool'), bytes);
  }
  const workDir = join(root, 'work');
  await mkdir(workDir);
  return { layersDir, uid: 1000, gid: 1000, workDir };
}

const buildpack = (layers: BuiltLayer[]): BuiltBuildpack => ({ id: 'test/a', version: '1.0.0', api: '0.12', layers });

/** 'settled' or 'pending', without waiting. */
async function state(p: Promise<unknown>): Promise<'settled' | 'pending'> {
  return Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

test('a built buildpack\'s launch and cache layers are exported one at a time, with the exporter\'s outcome', async () => {
  const ctx = await setup({ one: Buffer.from('one'), two: Buffer.from('two'), three: Buffer.from('three') });
  const bp = buildpack([layer('one', { launch: true, cache: true }), layer('three', { build: true }), layer('two', { cache: true, build: true })]);
  const ahead = new ExportAhead(ctx);
  ahead.built(bp);
  assert.equal(ahead.started, 1, 'the first layer starts at once');
  assert.ok(ahead.take('test/a', 'one'));
  assert.equal(ahead.take('test/a', 'two'), undefined, 'one layer at a time');
  const one = await ahead.take('test/a', 'one')!;
  for (let i = 0; i < 100 && !ahead.take('test/a', 'two'); i++) await new Promise((r) => setImmediate(r));
  const two = await ahead.take('test/a', 'two');
  assert.ok(two, 'the next layer starts when the first is done');
  await ahead.settle();
  assert.equal(ahead.started, 2);
  assert.equal(ahead.take('test/a', 'three'), undefined, 'a build-only layer is not exported');

  // The exporter's own computation over the same folders, in another work folder.
  const ctx2 = { ...ctx, workDir: await mkdtemp(join(dir, 'work2-')) };
  let n = 0;
  const [j1, j2] = layerJobs(ctx2, bp, () => `x-${n++}`);
  const direct1 = await exportLayer(ctx2, j1!);
  const direct2 = await exportLayer(ctx2, j2!);
  assert.equal(one.compressed?.digest, direct1.compressed?.digest, 'same launch blob');
  assert.equal(one.cacheCandidate?.diffID, direct1.cacheCandidate?.diffID);
  assert.equal(one.cacheCandidate?.tree.fingerprint, direct1.cacheCandidate?.tree.fingerprint);
  assert.equal(two.compressed, undefined, 'a cache-only layer has no blob');
  assert.equal(two.cacheCandidate?.diffID, direct2.cacheCandidate?.diffID);
  assert.deepEqual(await readFile(await two.cacheCandidate!.tar()), await readFile(await direct2.cacheCandidate!.tar()), 'the same tar bytes');
});

test('after stop no layer starts: the exporter does the rest', async () => {
  const ctx = await setup({ one: Buffer.from('1'), two: Buffer.from('2') });
  const ahead = new ExportAhead(ctx);
  ahead.built(buildpack([layer('one', { cache: true }), layer('two', { cache: true })]));
  ahead.stop();
  await ahead.settle();
  assert.ok(ahead.take('test/a', 'one'), 'started before stop');
  assert.equal(ahead.take('test/a', 'two'), undefined);
  ahead.built(buildpack([layer('two', { cache: true })]));
  assert.equal(ahead.take('test/a', 'two'), undefined, 'nothing starts once stopped');
  assert.equal(ahead.started, 1);
});

test('a failed layer is reported by take, not as an unhandled rejection; settle waits for the layer being written', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    // 'gone' says it has a folder, but it does not; 'big' (24 MiB) takes many turns of the event loop to write.
    const ctx = await setup({ big: randomBytes(24 << 20) });
    const ahead = new ExportAhead(ctx);
    ahead.built(buildpack([layer('gone', { cache: true }), layer('big', { launch: true, cache: true })]));
    const gone = ahead.take('test/a', 'gone')!;
    for (let i = 0; i < 100 && !ahead.take('test/a', 'big'); i++) await new Promise((r) => setImmediate(r));
    const big = ahead.take('test/a', 'big');
    assert.ok(big, 'the next layer starts after a failed one');
    assert.equal(await state(big), 'pending', 'still writing');
    await ahead.settle();
    assert.equal(await state(big), 'settled', 'settle waited for it');
    assert.ok((await big).compressed);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
    await assert.rejects(gone, /ENOENT/);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
