/**
 * Kept layer trees of the volume cache: the stat fingerprint sees every kind of change and nothing else; a
 * tree kept after a commit is taken back by the next restore; a tree changed while kept, a tree of a diffID
 * the cache no longer lists, and a dead process's staging folder are never used.
 */
import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openVolumeCache } from '../../../src/lifecycle/cache/volume-cache.js';
import { treeFingerprint } from '../../../src/lifecycle/cache/tree-fingerprint.js';
import { metadataOf, warnings, writeTar } from './helpers.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-volume-trees-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function tree(): Promise<string> {
  const dir = join(root, `tree-${++n}`);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'bin', 'tool'), 'echo hi\n', { mode: 0o755 });
  await writeFile(join(dir, 'data.txt'), 'data');
  await symlink('bin/tool', join(dir, 'link'));
  return dir;
}

test('the fingerprint changes with contents, modes, entries and names, and not when the tree is moved', async () => {
  const changes: [string, (d: string) => Promise<void>][] = [
    ['bytes of a file', (d) => appendFile(join(d, 'data.txt'), '!')],
    ['same-size rewrite', (d) => writeFile(join(d, 'data.txt'), 'DATA')],
    ['mode', (d) => chmod(join(d, 'data.txt'), 0o600)],
    ['added file', (d) => writeFile(join(d, 'bin', 'new'), '')],
    ['removed file', (d) => unlink(join(d, 'data.txt'))],
    ['renamed entry', (d) => rename(join(d, 'data.txt'), join(d, 'data2.txt'))],
    ['replaced symlink', async (d) => { await unlink(join(d, 'link')); await symlink('data.txt', join(d, 'link')); }],
  ];
  for (const [what, change] of changes) {
    const dir = await tree();
    const before = treeFingerprint(dir);
    assert.equal(treeFingerprint(dir), before, 'stable while untouched');
    await change(dir);
    assert.notEqual(treeFingerprint(dir), before, what);
  }
  const dir = await tree();
  const fp = treeFingerprint(dir);
  const moved = join(root, 'elsewhere', 'moved');
  await mkdir(join(root, 'elsewhere'), { recursive: true });
  await rename(dir, moved);
  assert.equal(treeFingerprint(moved), fp, 'moving the tree keeps it');
});

async function cacheWithLayer(name: string) {
  const base = join(root, `cache-${++n}`);
  await mkdir(join(base, 'tars'), { recursive: true });
  const w = warnings();
  const cache = await openVolumeCache(join(base, 'cache'), { warn: w.warn });
  const tar = await writeTar(join(base, 'tars'), name, [{ path: `layers/bp/${name}/file`, content: name }]);
  const writer = await cache.begin();
  await writer.addLayer(tar.diffID, tar.path);
  await writer.commit(metadataOf('bp', '1', { [name]: tar.diffID }));
  return { cache, diffID: tar.diffID, warnings: w.list, dir: join(base, 'cache'), base };
}

test('a kept tree is taken back whole, once, with its record', async () => {
  const c = await cacheWithLayer('a');
  const dir = await tree();
  const record = { fingerprint: treeFingerprint(dir), writer: 'layers/bp/a 1000:1000' };
  await c.cache.keepTree!(c.diffID, dir, record);
  await assert.rejects(readFile(join(dir, 'data.txt')), 'the folder was moved into the cache');

  const dest = join(c.base, 'restored');
  assert.deepEqual(await c.cache.takeTree!(c.diffID, dest), record);
  assert.equal(await readFile(join(dest, 'data.txt'), 'utf8'), 'data');
  assert.equal(treeFingerprint(dest), record.fingerprint);
  assert.equal(await c.cache.takeTree!(c.diffID, join(c.base, 'again')), undefined, 'a tree is taken once');
  assert.deepEqual(c.warnings, []);
});

test('a kept tree has no setuid or setgid file, and its record matches it', async () => {
  const c = await cacheWithLayer('s');
  const dir = await tree();
  await chmod(join(dir, 'bin', 'tool'), 0o4755);
  await chmod(join(dir, 'bin'), 0o2755);
  const record = { fingerprint: treeFingerprint(dir), writer: 'w' };
  await c.cache.keepTree!(c.diffID, dir, record);
  const dest = join(c.base, 'restored');
  const taken = await c.cache.takeTree!(c.diffID, dest);
  assert.ok(taken, 'the stripped tree is still taken back');
  assert.equal((await stat(join(dest, 'bin', 'tool'))).mode & 0o7777, 0o755);
  assert.equal((await stat(join(dest, 'bin'))).mode & 0o7777, 0o755);
  assert.notEqual(taken.fingerprint, record.fingerprint, 'fingerprint taken again after stripping');
});

test('a tree changed while kept is dropped with a warning, and the tar is still there', async () => {
  const c = await cacheWithLayer('b');
  const dir = await tree();
  await c.cache.keepTree!(c.diffID, dir, { fingerprint: treeFingerprint(dir), writer: 'w' });
  await appendFile(join(c.dir, 'trees', c.diffID, 'root', 'data.txt'), 'tampered');
  const dest = join(c.base, 'restored');
  assert.equal(await c.cache.takeTree!(c.diffID, dest), undefined);
  await assert.rejects(readdir(dest), 'nothing left at the destination');
  assert.match(c.warnings.join('\n'), /changed while kept/);
  assert.deepEqual(await readdir(join(c.dir, 'trees')), [], 'the bad tree is gone');
  assert.ok(await c.cache.openLayer(c.diffID), 'the layer tar is unaffected');
});

test('a commit drops trees of layers it no longer lists, and staging folders of dead processes', async () => {
  const c = await cacheWithLayer('c');
  const dir = await tree();
  await c.cache.keepTree!(c.diffID, dir, { fingerprint: treeFingerprint(dir), writer: 'w' });
  await mkdir(join(c.dir, 'trees', 'staging.999999999.abcdef'), { recursive: true });
  await mkdir(join(c.dir, 'trees', `staging.${process.pid}.abcdef`), { recursive: true });
  const other = await writeTar(join(c.base, 'tars'), 'd', [{ path: 'layers/bp/d/file', content: 'd' }]);
  const writer = await c.cache.begin();
  await writer.addLayer(other.diffID, other.path);
  await writer.commit(metadataOf('bp', '1', { d: other.diffID }));
  assert.deepEqual(await readdir(join(c.dir, 'trees')), [`staging.${process.pid}.abcdef`], 'a live writer\'s staging stays');
});
