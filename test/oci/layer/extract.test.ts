/**
 * extractLayer on well-formed layers: OCI whiteout and opaque-directory semantics across layers
 * (image-spec layer.md), metadata (modes, owners, mtimes, hardlinks), round trips with writeLayer, input
 * handling (gzip or plain, full consumption of the input), and listLayer.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile, link, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { extractLayer } from '../../../src/oci/layer/extract.js';
import { layerEntries, listLayer } from '../../../src/oci/layer/list.js';
import { writeLayer } from '../../../src/oci/layer/tar-writer.js';
import { gz, tarOf, type RawEntry } from './tar-craft.js';

let top: string;
before(async () => {
  top = await mkdtemp(join(tmpdir(), 'cairn-extract-'));
});
after(async () => {
  await rm(top, { recursive: true, force: true });
});

let n = 0;
const fresh = async (): Promise<string> => {
  const d = join(top, `r${++n}`);
  await mkdir(d);
  return d;
};
const f = (name: string, body = name, extra: Partial<RawEntry> = {}): RawEntry => ({ name, body, ...extra });
const d = (name: string, mode = 0o755): RawEntry => ({ name, type: '5', mode });
const wh = (name: string): RawEntry => ({ name, body: '' });

/** Sorted relative paths under dir (directories with a trailing slash). */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) out.push(`${r}/`, ...tree(dir, r));
    else out.push(r);
  }
  return out;
}

async function apply(root: string, ...layers: Buffer[]): Promise<void> {
  for (const l of layers) await extractLayer(Readable.from([l]), root);
}

test('whiteouts remove files and whole directories of lower layers', async () => {
  const root = await fresh();
  await apply(
    root,
    gz(tarOf([d('a/'), f('a/1'), f('a/2'), d('b/'), d('b/deep/'), f('b/deep/x'), f('c')])),
    gz(tarOf([wh('a/.wh.1'), wh('.wh.b'), wh('.wh.c'), wh('.wh.not-there'), wh('x/y/.wh.missing-parent')])),
  );
  assert.deepEqual(tree(root), ['a/', 'a/2']);
});

test('opaque directory hides all lower content, keeps what the same layer writes, before or after the marker', async () => {
  const root = await fresh();
  await apply(
    root,
    tarOf([d('a/'), f('a/old'), d('a/sub/'), f('a/sub/old'), d('b/'), f('b/old')]),
    tarOf([d('a/'), d('a/sub/'), f('a/sub/new'), wh('a/.wh..wh..opq'), f('a/later'), d('b/'), wh('b/.wh..wh..opq'), f('b/new')]),
  );
  assert.deepEqual(tree(root), ['a/', 'a/later', 'a/sub/', 'a/sub/new', 'b/', 'b/new']);
  assert.equal(existsSync(join(root, 'a', '.wh..wh..opq')), false);
});

test('a whiteout never removes what the same layer wrote', async () => {
  const root = await fresh();
  await apply(root, tarOf([f('x', 'lower')]), tarOf([f('y', 'same'), wh('.wh.y'), wh('.wh.x'), f('x', 'upper')]));
  assert.equal(readFileSync(join(root, 'y'), 'utf8'), 'same');
  assert.equal(readFileSync(join(root, 'x'), 'utf8'), 'upper');
});

test('later layers replace files, directories with files and files with directories', async () => {
  const root = await fresh();
  await apply(root, tarOf([f('a', 'one'), d('b/'), f('b/inside'), f('c')]), tarOf([f('a', 'two'), f('b', 'now a file'), d('c/'), f('c/x')]));
  assert.deepEqual(tree(root), ['a', 'b', 'c/', 'c/x']);
  assert.equal(readFileSync(join(root, 'a'), 'utf8'), 'two');
});

test('AUFS metadata entries are ignored', async () => {
  const root = await fresh();
  const s = await extractLayer(Readable.from([tarOf([d('.wh..wh.plnk/'), f('.wh..wh.aufs', ''), f('ok'), wh('.wh.gone')])]), root);
  assert.deepEqual(tree(root), ['ok']);
  assert.deepEqual([s.entries, s.files, s.dirs, s.whiteouts], [4, 1, 0, 1]);
});

test('modes, mtimes and missing parents: a read-only directory still gets its children', async () => {
  const root = await fresh();
  const s = await extractLayer(Readable.from([tarOf([d('ro/', 0o555), f('ro/x', 'x', { mode: 0o640, mtime: 1234567890 }), f('implicit/parent/y', 'y', { mode: 0o755 })])]), root);
  assert.deepEqual(s, { entries: 3, files: 2, dirs: 1, symlinks: 0, hardlinks: 0, whiteouts: 0, skipped: 0, bytes: 2 });
  assert.equal(statSync(join(root, 'ro')).mode & 0o7777, 0o555);
  assert.equal(statSync(join(root, 'ro', 'x')).mode & 0o7777, 0o640);
  assert.equal(statSync(join(root, 'ro', 'x')).mtimeMs, 1234567890000);
  assert.equal(statSync(join(root, 'ro')).mtimeMs, 1000000000000);
  assert.equal(statSync(join(root, 'implicit', 'parent')).mode & 0o7777, 0o755);
  assert.equal(statSync(join(root, 'implicit', 'parent', 'y')).mode & 0o7777, 0o755);
});

test('ownership is applied only with preserveOwnership (as root)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const layer = tarOf([d('d/'), f('d/x', 'x', { uid: 1234, gid: 2345 }), { name: 'l', type: '2', linkname: 'd/x', uid: 1234, gid: 2345 }]);
  const a = await fresh();
  await extractLayer(Readable.from([layer]), a, { preserveOwnership: true });
  assert.equal(statSync(join(a, 'd', 'x')).uid, 1234);
  assert.equal(statSync(join(a, 'd', 'x')).gid, 2345);
  assert.equal(lstatSync(join(a, 'l')).uid, 1234);
  const b = await fresh();
  await extractLayer(Readable.from([layer]), b);
  assert.equal(statSync(join(b, 'd', 'x')).uid, process.getuid!());
});

test('round trip: writeLayer → extractLayer → writeLayer gives the same diffID; hardlinks stay linked', async () => {
  const src = await fresh();
  await mkdir(join(src, 'bin'));
  await writeFile(join(src, 'bin', 'tool'), '#!/bin/sh\necho hi\n');
  await chmod(join(src, 'bin', 'tool'), 0o755);
  await writeFile(join(src, 'big'), Buffer.alloc(3 << 20, 7)); // over the small-file threshold
  await link(join(src, 'big'), join(src, 'big-link'));
  await symlink('bin/tool', join(src, 'tool'));
  await mkdir(join(src, 'empty'));
  const layer = join(top, 'rt.tar.gz');
  const first = await writeLayer([{ type: 'tree', source: src, path: 'app' }], layer);
  const root = await fresh();
  const s = await extractLayer(Readable.from([readFileSync(layer)]), root);
  assert.equal(s.hardlinks, 1);
  assert.equal(s.bytes, (3 << 20) + 18);
  assert.equal(statSync(join(root, 'app', 'big')).ino, statSync(join(root, 'app', 'big-link')).ino);
  assert.equal(readlinkSync(join(root, 'app', 'tool')), 'bin/tool');
  assert.equal(statSync(join(root, 'app', 'bin', 'tool')).mode & 0o777, 0o755);
  const again = await writeLayer([{ type: 'tree', source: join(root, 'app'), path: 'app' }], join(top, 'rt2.tar.gz'));
  assert.equal(again.diffID, first.diffID);
  assert.equal(again.digest, first.digest);
});

test('the whole input is consumed, including bytes after the end-of-archive blocks', async () => {
  const tar = Buffer.concat([tarOf([f('a')]), Buffer.alloc(4096, 0x41)]);
  let pulled = 0;
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < tar.length; i += 1000) {
      const c = tar.subarray(i, i + 1000);
      pulled += c.length;
      yield c;
    }
  }
  await extractLayer(source(), await fresh());
  assert.equal(pulled, tar.length);
});

test('an input stream error propagates unchanged', async () => {
  const boom = new Error('network reset');
  async function* source(): AsyncGenerator<Buffer> {
    yield gz(tarOf([f('a', 'x'.repeat(100000))])).subarray(0, 100);
    throw boom;
  }
  await assert.rejects(extractLayer(source(), await fresh()), (e) => e === boom);
});

test('listLayer lists entries of plain and gzip layers, as the archive states them', async () => {
  const tar = tarOf([d('a/'), f('a/x', 'hello', { mode: 0o600, uid: 7, gid: 8, mtime: 99 }), { name: 'l', type: '2', linkname: '/abs' }, { name: 'h', type: '1', linkname: 'a/x' }, wh('a/.wh.y')]);
  for (const input of [tar, gz(tar)]) {
    const list = await listLayer(Readable.from([input]));
    assert.deepEqual(list.map((e) => [e.path, e.type, e.size, e.linkname]), [
      ['a/', 'dir', 0, ''],
      ['a/x', 'file', 5, ''],
      ['l', 'symlink', 0, '/abs'],
      ['h', 'hardlink', 0, 'a/x'],
      ['a/.wh.y', 'file', 0, ''],
    ]);
    assert.deepEqual([list[1]!.mode, list[1]!.uid, list[1]!.gid, list[1]!.mtime], [0o600, 7, 8, 99]);
  }
});

test('layerEntries stops early and releases the input stream', async () => {
  const input = Readable.from([gz(tarOf([f('a'), f('b'), f('c')]))]);
  for await (const e of layerEntries(input)) {
    assert.equal(e.path, 'a');
    break;
  }
  assert.equal(input.destroyed, true);
});
