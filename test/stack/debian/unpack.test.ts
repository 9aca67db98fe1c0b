import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { decodeData, readDeb } from '../../../src/stack/debian/deb.js';
import { unpackData } from '../../../src/stack/debian/unpack.js';
import { RootTree } from '../../../src/stack/root-tree.js';
import { createMergedUsr } from '../../../src/stack/rootfs/merged-usr.js';
import { type FakeEntry, makeDeb } from '../helpers/fake-debian.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'cairn-unpack-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

let roots = 0;
async function unpack(files: FakeEntry[], tree = new RootTree(join(base, `root${roots++}`)), impliedDirs = true): Promise<{ tree: RootTree; files: string[] }> {
  const deb = await readDeb(await makeDeb({ name: 'p', version: '1', files, impliedDirs }), 'p.deb');
  const r = await unpackData(await decodeData(deb, 'p.deb'), tree, 'p.deb');
  return { tree, files: r.files };
}

test('unpacks files, symlinks and hard links with modes, through merged-/usr, and lists them as dpkg does', async () => {
  const tree = new RootTree(join(base, 'root'));
  createMergedUsr(tree, 'amd64');
  const r = await unpack(
    [
      { path: './lib/x86_64-linux-gnu/libz.so.1.2', data: 'z', mode: 0o644, mtime: 1600000000 },
      { path: './lib/x86_64-linux-gnu/libz.so.1', type: 'symlink', linkname: 'libz.so.1.2' },
      { path: './usr/bin/prog', data: 'p', mode: 0o755 },
      { path: './usr/bin/prog-alias', type: 'link', linkname: './usr/bin/prog' },
      { path: './usr/sbin/', type: 'directory', mode: 0o755 },
    ],
    tree,
  );
  assert.deepEqual(r.files, ['/.', '/lib', '/lib/x86_64-linux-gnu', '/usr', '/usr/bin', '/lib/x86_64-linux-gnu/libz.so.1.2', '/lib/x86_64-linux-gnu/libz.so.1', '/usr/bin/prog', '/usr/bin/prog-alias', '/usr/sbin']);
  assert.equal(readFileSync(join(tree.root, 'usr/lib/x86_64-linux-gnu/libz.so.1.2'), 'utf8'), 'z');
  assert.equal(statSync(join(tree.root, 'usr/lib/x86_64-linux-gnu/libz.so.1.2')).mtimeMs, 1600000000 * 1000);
  assert.equal(readlinkSync(join(tree.root, 'usr/lib/x86_64-linux-gnu/libz.so.1')), 'libz.so.1.2');
  assert.equal(statSync(join(tree.root, 'usr/bin/prog')).mode & 0o777, 0o755);
  assert.equal(statSync(join(tree.root, 'usr/bin/prog-alias')).ino, statSync(join(tree.root, 'usr/bin/prog')).ino);
  assert.equal(readlinkSync(join(tree.root, 'lib')), 'usr/lib', 'the ./lib/ directory entry keeps the merged-/usr link');
});

test('refuses entries escaping the root, device nodes and FIFOs', async () => {
  await assert.rejects(unpack([{ path: '../etc/passwd', data: 'x' }]), (e: Error & { code?: string }) => e.code === 'UNSAFE_ARCHIVE_ENTRY' && /escapes the root/.test(e.message));
  await assert.rejects(unpack([{ path: './a/../../x', data: 'x' }]), /escapes the root/);
  await assert.rejects(unpack([{ path: './dev/null', type: 'character-device' }]), /entry \.\/dev\/null is a character-device, which cairn does not unpack/);
  await assert.rejects(unpack([{ path: './run/fifo', type: 'fifo' }]), /is a fifo/);
  await assert.rejects(unpack([{ path: './usr/bin/x', type: 'link', linkname: '../../etc/shadow' }]), /escapes the root/);
});

test('a symlink planted by a package cannot redirect later writes outside the root', async () => {
  const r = await unpack([
    { path: './etc/', type: 'directory' },
    { path: './etc/trap', type: 'symlink', linkname: '/' },
    { path: './etc/trap/../../../outside', data: 'never' },
  ]).catch((e: Error) => e);
  assert.ok(r instanceof Error && /escapes the root/.test(r.message));
  const tree = new RootTree(join(base, 'r2'));
  await unpack([{ path: './etc/', type: 'directory' }, { path: './etc/trap', type: 'symlink', linkname: base }, { path: './etc/trap/owned', data: 'inside' }], tree, false);
  assert.equal(readFileSync(join(tree.root, base.slice(1), 'owned'), 'utf8'), 'inside', 'the absolute target was re-rooted into the tree');
});
