import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { CACHE_METADATA_NAME } from '../../../src/lifecycle/cache/cache.js';
import { openVolumeCache } from '../../../src/lifecycle/cache/volume-cache.js';
import type { Digest } from '../../../src/oci/digest.js';
import { isCairnError } from '../../../src/oci/errors.js';
import { metadataOf, readStream, unprivileged, validateCache, warnings, writeTar } from './helpers.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-volume-cache-'));
  await chmod(root, 0o755); // readable by `nobody` for the permission tests
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function fresh(): Promise<{ dir: string; tars: string }> {
  const base = join(root, String(++n));
  await mkdir(join(base, 'tars'), { recursive: true });
  return { dir: join(base, 'cache'), tars: join(base, 'tars') };
}

/** A cache committed with two layers `a` and `b`. */
async function populated() {
  const { dir, tars } = await fresh();
  const w = warnings();
  const cache = await openVolumeCache(dir, { warn: w.warn });
  const a = await writeTar(tars, 'a', [{ path: 'layers/bp/a/file', content: 'aaa' }]);
  const b = await writeTar(tars, 'b', [{ path: 'layers/bp/b/file', content: 'bbb' }]);
  const writer = await cache.begin();
  await writer.addLayer(a.diffID, a.path);
  await writer.addLayer(b.diffID, b.path);
  await writer.commit(metadataOf('bp', '1', { a: a.diffID, b: b.diffID }, { k: 'v' }));
  return { dir, tars, cache, w, a, b };
}

const file = (dir: string, d: Digest) => join(dir, 'committed', `${d}.tar`);

test('round trip: the reference layout, metadata and verified layers', async () => {
  const { dir, cache, w, a, b } = await populated();
  assert.deepEqual((await readdir(dir)).sort(), ['committed']);
  assert.deepEqual((await readdir(join(dir, 'committed'))).sort(), [`${a.diffID}.tar`, `${b.diffID}.tar`, CACHE_METADATA_NAME].sort());
  const onDisk = JSON.parse(await readFile(join(dir, 'committed', CACHE_METADATA_NAME), 'utf8'));
  assert.equal(onDisk.buildpacks[0].layers.a.sha, a.diffID);
  const { metadata, layers } = await validateCache(cache, w.list);
  assert.deepEqual(metadata, metadataOf('bp', '1', { a: a.diffID, b: b.diffID }, { k: 'v' }));
  assert.deepEqual(layers.get(a.diffID), a.bytes);
  assert.deepEqual(layers.get(b.diffID), b.bytes);
  // A second open of the same folder sees the same.
  const again = await openVolumeCache(dir, { warn: w.warn });
  assert.deepEqual((await validateCache(again, w.list)).metadata, metadata);
  assert.deepEqual(w.list, []);
});

test('an empty or new folder is an empty cache, without warnings', async () => {
  const { dir } = await fresh();
  const w = warnings();
  const cache = await openVolumeCache(dir, { warn: w.warn });
  assert.deepEqual(await cache.metadata(), { buildpacks: [] });
  assert.deepEqual(w.list, []);
});

test('reuse hard-links the committed file (same inode, no bytes copied); the old generation goes', async () => {
  const { dir, tars, cache, w, a, b } = await populated();
  const inode = (await stat(file(dir, a.diffID))).ino;
  const c = await writeTar(tars, 'c', [{ path: 'layers/bp/c/file', content: 'ccc' }]);
  const writer = await cache.begin();
  assert.equal(await writer.reuseLayer(a.diffID), true);
  await writer.addLayer(c.diffID, c.path);
  await writer.commit(metadataOf('bp', '2', { a: a.diffID, c: c.diffID }));
  assert.equal((await stat(file(dir, a.diffID))).ino, inode);
  assert.equal((await stat(file(dir, c.diffID))).ino, (await stat(c.path)).ino, 'added tars are linked, not copied');
  await assert.rejects(stat(file(dir, b.diffID)), { code: 'ENOENT' });
  assert.deepEqual((await readdir(dir)).sort(), ['committed']);
  const { metadata } = await validateCache(cache, w.list);
  assert.equal(metadata.buildpacks[0]!.version, '2');
  assert.deepEqual(w.list, []);
});

test('nothing is visible before commit; abort removes the staging folder', async () => {
  const { dir, tars, cache, w, a } = await populated();
  const c = await writeTar(tars, 'c', [{ path: 'x', content: 'c' }]);
  const writer = await cache.begin();
  await writer.addLayer(c.diffID, c.path);
  assert.equal(await writer.reuseLayer(a.diffID), true);
  assert.equal((await cache.metadata()).buildpacks[0]!.version, '1');
  assert.equal(await cache.openLayer(c.diffID), undefined);
  assert.equal(w.list.length, 1);
  assert.equal((await readdir(dir)).filter((x) => x.startsWith('staging.')).length, 1);
  await writer.abort();
  assert.deepEqual((await readdir(dir)).sort(), ['committed']);
  await assert.rejects(writer.addLayer(c.diffID, c.path), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
});

test('commit refuses metadata naming a layer that was neither added nor kept', async () => {
  const { cache, a, b } = await populated();
  const writer = await cache.begin();
  await writer.reuseLayer(a.diffID);
  await assert.rejects(writer.commit(metadataOf('bp', '2', { a: a.diffID, b: b.diffID })), (e) => isCairnError(e, 'INVALID_ARGUMENT') && e.message.includes(b.diffID));
  await writer.abort();
});

test('reuse of a layer that is not committed is false', async () => {
  const { cache, tars } = await populated();
  const x = await writeTar(tars, 'x', [{ path: 'x', content: 'x' }]);
  const writer = await cache.begin();
  assert.equal(await writer.reuseLayer(x.diffID), false);
  await writer.abort();
});

// --- corruption: every case is a warning and a miss, never an error ---

for (const [what, content] of [
  ['truncated', (s: string) => s.slice(0, Math.floor(s.length / 2))],
  ['garbage', () => '\x00\xff{{{ not json'],
  ['empty', () => ''],
  ['wrongly shaped', () => '{"buildpacks": 5}'],
  ['a JSON array', () => '[1,2]'],
] as const) {
  test(`${what} metadata: a warning and an empty cache`, async () => {
    const { dir } = await populated();
    const path = join(dir, 'committed', CACHE_METADATA_NAME);
    await writeFile(path, content(await readFile(path, 'utf8')));
    const w = warnings();
    const cache = await openVolumeCache(dir, { warn: w.warn });
    assert.deepEqual(await cache.metadata(), { buildpacks: [] });
    assert.equal(w.list.length, 1, w.list.join('\n'));
    assert.match(w.list[0]!, /runs without cache/);
  });
}

test('metadata missing from a committed folder: a warning and an empty cache', async () => {
  const { dir } = await populated();
  await rm(join(dir, 'committed', CACHE_METADATA_NAME));
  const w = warnings();
  const cache = await openVolumeCache(dir, { warn: w.warn });
  assert.deepEqual(await cache.metadata(), { buildpacks: [] });
  assert.match(w.list.join('\n'), /no metadata file/);
});

test('bad entries are dropped one by one: unsafe layer names, bad diffIDs, wrong types', async () => {
  const { dir, a } = await populated();
  const doc = {
    buildpacks: [
      { key: 'bp', version: '1', layers: { good: { sha: a.diffID, build: true, cache: true }, '..': { sha: a.diffID }, 'x/y': { sha: a.diffID }, badsha: { sha: 'sha256:zz' }, badtype: { sha: a.diffID, launch: 'yes' } } },
      { version: '1', layers: {} },
      'not a table',
    ],
    sbom: { sha: 'nope' },
  };
  await writeFile(join(dir, 'committed', CACHE_METADATA_NAME), JSON.stringify(doc));
  const w = warnings();
  const cache = await openVolumeCache(dir, { warn: w.warn });
  const md = await cache.metadata();
  // The array element that is not a table makes the document's shape wrong as a whole.
  assert.deepEqual(md, { buildpacks: [] });
  doc.buildpacks.pop();
  await writeFile(join(dir, 'committed', CACHE_METADATA_NAME), JSON.stringify(doc));
  w.list.length = 0;
  const md2 = await cache.metadata();
  assert.deepEqual(md2, { buildpacks: [{ key: 'bp', version: '1', layers: { good: { sha: a.diffID, data: {}, build: true, launch: false, cache: true } } }] });
  assert.equal(w.list.length, 6, w.list.join('\n'));
});

test('a listed layer whose file is missing: a warning and a miss', async () => {
  const { dir, cache, w, a, b } = await populated();
  await rm(file(dir, a.diffID));
  assert.equal(await cache.openLayer(a.diffID), undefined);
  assert.match(w.list[0]!, /has no layer/);
  assert.deepEqual(await readStream((await cache.openLayer(b.diffID))!), b.bytes);
  const writer = await cache.begin();
  assert.equal(await writer.reuseLayer(a.diffID), false);
  await writer.abort();
});

test('a layer file whose content does not match: the stream fails with DIGEST_MISMATCH and the layer is not reused', async () => {
  const { dir, cache, a } = await populated();
  const path = file(dir, a.diffID);
  const bytes = await readFile(path);
  bytes[600] = bytes[600]! ^ 0xff;
  await rm(path); // not in place: the file is also the exporter's tar (hard link)
  await writeFile(path, bytes);
  const s = await cache.openLayer(a.diffID);
  assert.ok(s);
  await assert.rejects(readStream(s), (e) => isCairnError(e, 'DIGEST_MISMATCH'));
  const writer = await cache.begin();
  assert.equal(await writer.reuseLayer(a.diffID), false, 'a layer seen damaged is not carried on');
  await writer.abort();
  // A fresh cache object that never read it checks it before reusing it.
  const w2 = warnings();
  const other = await openVolumeCache(dir, { warn: w2.warn });
  const writer2 = await other.begin();
  assert.equal(await writer2.reuseLayer(a.diffID), false);
  assert.match(w2.list.join('\n'), /damaged/);
  await writer2.abort();
  // A truncated file too.
  await truncate(path, 100);
  await assert.rejects(readStream((await other.openLayer(a.diffID))!), (e) => isCairnError(e, 'DIGEST_MISMATCH'));
});

test('unreadable files (permissions, not a regular file): a warning and a miss', async () => {
  const { dir, cache, w, a, b } = await populated();
  await chmod(file(dir, a.diffID), 0o000);
  await chmod(join(dir, 'committed', CACHE_METADATA_NAME), 0o000);
  const [layer, md] = await unprivileged(async () => [await cache.openLayer(a.diffID), await cache.metadata()] as const);
  assert.equal(layer, undefined);
  assert.deepEqual(md, { buildpacks: [] });
  assert.equal(w.list.length, 2, w.list.join('\n'));
  assert.match(w.list[0]!, /cannot read layer .*(EACCES|permission)/i);
  assert.match(w.list[1]!, /cannot read its metadata/);
  // A folder or a symlink where a layer file should be.
  await rm(file(dir, b.diffID));
  await mkdir(file(dir, b.diffID));
  assert.equal(await cache.openLayer(b.diffID), undefined);
  assert.match(w.list[2]!, /not a regular file/);
  await rm(file(dir, b.diffID), { recursive: true });
  await symlink(b.path, file(dir, b.diffID));
  assert.equal(await cache.openLayer(b.diffID), undefined);
  assert.equal(w.list.length, 4);
});

// --- recovery of interrupted commits ---

test('recovery: committed missing with a backup → the backup is the cache again', async () => {
  const { dir, a } = await populated();
  await rename(join(dir, 'committed'), join(dir, 'committed-backup'));
  await mkdir(join(dir, 'staging.999999999.abcdef'));
  await mkdir(join(dir, 'staging'));
  const w = warnings();
  const cache = await openVolumeCache(dir, { warn: w.warn });
  assert.deepEqual((await readdir(dir)).sort(), ['committed']);
  const { metadata } = await validateCache(cache, w.list);
  assert.equal(metadata.buildpacks[0]!.layers.a!.sha, a.diffID);
});

test('recovery: both committed and backup → the backup goes', async () => {
  const { dir, w, cache } = await populated();
  await mkdir(join(dir, 'committed-backup'));
  await writeFile(join(dir, 'committed-backup', 'junk'), 'x');
  await openVolumeCache(dir, { warn: w.warn });
  assert.deepEqual((await readdir(dir)).sort(), ['committed']);
  await validateCache(cache, w.list);
});

test('a reader that finds no committed folder recovers it under the lock', async () => {
  const { dir, cache, w, a } = await populated();
  await rename(join(dir, 'committed'), join(dir, 'committed-backup'));
  assert.equal((await cache.metadata()).buildpacks[0]!.layers.a!.sha, a.diffID);
  await validateCache(cache, w.list);
});

test('a lock left by a dead process is broken', async () => {
  const { dir, cache, w, tars } = await populated();
  await writeFile(join(dir, 'cache.lock'), JSON.stringify({ pid: 999999999, host: hostname(), time: new Date().toISOString() }));
  const c = await writeTar(tars, 'c', [{ path: 'c', content: 'c' }]);
  const writer = await cache.begin();
  await writer.addLayer(c.diffID, c.path);
  await writer.commit(metadataOf('bp', '9', { c: c.diffID }));
  assert.equal((await validateCache(cache, w.list)).metadata.buildpacks[0]!.version, '9');
});

// --- concurrency ---

test('two writers in one process at once both commit; the cache is valid and is the last commit', async () => {
  const { dir, tars, cache, w, a } = await populated();
  const w1 = await cache.begin();
  const w2 = await cache.begin();
  const x = await writeTar(tars, 'x', [{ path: 'x', content: 'x' }]);
  const y = await writeTar(tars, 'y', [{ path: 'y', content: 'y' }]);
  await Promise.all([w1.reuseLayer(a.diffID), w2.reuseLayer(a.diffID)]);
  await Promise.all([w1.addLayer(x.diffID, x.path), w2.addLayer(y.diffID, y.path)]);
  await Promise.all([w1.commit(metadataOf('bp', 'x', { a: a.diffID, x: x.diffID })), w2.commit(metadataOf('bp', 'y', { a: a.diffID, y: y.diffID }))]);
  const { metadata } = await validateCache(cache, w.list);
  assert.ok(['x', 'y'].includes(metadata.buildpacks[0]!.version));
  assert.deepEqual((await readdir(dir)).sort(), ['committed']);
});

const child = fileURLToPath(new URL('./cache-writer-child.js', import.meta.url));

function runChild(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

test('two processes writing one cache folder at once: both succeed, the cache stays valid', async () => {
  const { dir, tars } = await fresh();
  await mkdir(dir);
  const [r1, r2] = await Promise.all([runChild([dir, tars, 'one', '8']), runChild([dir, tars, 'two', '8'])]);
  assert.equal(r1.code, 0, r1.err);
  assert.equal(r2.code, 0, r2.err);
  assert.equal(r1.out.match(/committed/g)?.length, 8);
  assert.equal(r2.out.match(/committed/g)?.length, 8);
  assert.equal(r1.err + r2.err, '', 'no warnings: neither writer saw a damaged cache');
  const w = warnings();
  const cache = await openVolumeCache(dir, { warn: w.warn });
  const { metadata, layers } = await validateCache(cache, w.list);
  assert.ok(['one', 'two'].includes(metadata.buildpacks[0]!.key));
  assert.ok(layers.size >= 3);
  assert.deepEqual((await readdir(dir)).sort(), ['committed']);
});
