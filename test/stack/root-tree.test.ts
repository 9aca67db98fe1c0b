import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { RootTree } from '../../src/stack/root-tree.js';
import { createMergedUsr } from '../../src/stack/rootfs/merged-usr.js';

let base: string;
let tree: RootTree;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'cairn-tree-'));
  tree = new RootTree(join(base, 'root'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

test('merged-/usr: paths under /lib and /bin land in /usr and the links stay', () => {
  createMergedUsr(tree, 'amd64');
  tree.mkdir('lib', { mode: 0o755 }); // a package's ./lib/ directory entry keeps the symlink
  assert.equal(tree.writeFile('lib/x86_64-linux-gnu/libc.so.6', 'libc', { mode: 0o755 }), 'usr/lib/x86_64-linux-gnu/libc.so.6');
  assert.equal(tree.writeFile('./bin/sh', 'sh', { mode: 0o755 }), 'usr/bin/sh');
  assert.equal(readlinkSync(join(tree.root, 'lib')), 'usr/lib');
  assert.equal(readFileSync(join(tree.root, 'usr/lib/x86_64-linux-gnu/libc.so.6'), 'utf8'), 'libc');
  assert.deepEqual(tree.entries().filter((e) => e.kind === 'symlink').map((e) => `${e.path}->${e.target}`), ['bin->usr/bin', 'lib->usr/lib', 'lib64->usr/lib64', 'sbin->usr/sbin']);
  // arm64 has no lib64.
  const t2 = new RootTree(join(base, 'arm'));
  createMergedUsr(t2, 'arm64');
  assert.equal(t2.kindOf('lib64'), undefined);
});

test('symlinks are resolved inside the root: absolute targets and .. never escape', () => {
  tree.symlink('etc/evil', '/');
  tree.symlink('etc/up', '../../../../..');
  tree.symlink('etc/abs', '/tmp');
  assert.equal(tree.writeFile('etc/evil/etc/passwd', 'x', { mode: 0o644 }), 'etc/passwd');
  assert.equal(tree.writeFile('etc/up/escaped', 'y', { mode: 0o644 }), 'escaped');
  assert.equal(tree.writeFile('etc/abs/f', 'z', { mode: 0o644 }), 'tmp/f');
  assert.equal(readFileSync(join(tree.root, 'escaped'), 'utf8'), 'y');
  assert.equal(lstatSync(join(tree.root, 'tmp')).isDirectory(), true, 'the host /tmp was not touched through the link');
  assert.equal(tree.resolve('/etc/../../..', true), '');
});

test('symlink loops are refused', () => {
  tree.symlink('a', 'b');
  tree.symlink('b', 'a');
  assert.throws(() => tree.writeFile('a/x', '', { mode: 0o644 }), (e: Error & { code?: string }) => e.code === 'UNSAFE_ARCHIVE_ENTRY' && /too many levels/.test(e.message));
});

test('files replace files and symlinks, but not directories', () => {
  tree.writeFile('etc/f', 'one', { mode: 0o644 });
  tree.writeFile('etc/f', 'two', { mode: 0o600 });
  assert.equal(readFileSync(join(tree.root, 'etc/f'), 'utf8'), 'two');
  assert.equal(statSync(join(tree.root, 'etc/f')).mode & 0o777, 0o600);
  tree.symlink('etc/l', 'f');
  tree.writeFile('etc/l', 'real', { mode: 0o644 });
  assert.equal(tree.entry('etc/l')?.kind, 'file');
  assert.throws(() => tree.writeFile('etc', 'x', { mode: 0o644 }), /cannot create \/etc: a directory is in the way/);
  assert.throws(() => tree.mkdir('etc/f', { mode: 0o755 }), /a file is in the way/);
  assert.throws(() => tree.writeFile('etc/f/sub', 'x', { mode: 0o644 }), /a file at \/etc\/f where a directory is needed/);
});

test('modes ignore the umask and special bits are kept; owners and mtimes are recorded', () => {
  tree.writeFile('usr/bin/su', 'su', { mode: 0o4755, uid: 0, gid: 0, mtime: 1000000000 });
  tree.mkdir('var/local', { mode: 0o2775, uid: 0, gid: 50 });
  tree.mkdir('tmp', { mode: 0o1777 });
  assert.equal(statSync(join(tree.root, 'usr/bin/su')).mode & 0o7777, 0o4755);
  assert.equal(statSync(join(tree.root, 'usr/bin/su')).mtimeMs, 1000000000 * 1000);
  assert.equal(statSync(join(tree.root, 'var/local')).mode & 0o7777, 0o2775);
  assert.equal(statSync(join(tree.root, 'tmp')).mode & 0o7777, 0o1777);
  assert.deepEqual(tree.entry('var/local'), { path: 'var/local', kind: 'dir', mode: 0o2775, uid: 0, gid: 50 });
  assert.equal(statSync(tree.root).mode & 0o777, 0o755);
});

test('hard links: the first path in sorted order is the file, the rest point to it', () => {
  tree.writeFile('usr/bin/perl5.36.0', 'perl', { mode: 0o755 });
  tree.hardlink('usr/bin/perl', 'usr/bin/perl5.36.0');
  tree.hardlink('usr/bin/zperl', './usr/bin/perl5.36.0');
  const byPath = new Map(tree.entries().map((e) => [e.path, e]));
  assert.equal(byPath.get('usr/bin/perl')!.hardlinkTo, undefined);
  assert.equal(byPath.get('usr/bin/perl5.36.0')!.hardlinkTo, 'usr/bin/perl');
  assert.equal(byPath.get('usr/bin/zperl')!.hardlinkTo, 'usr/bin/perl');
  assert.equal(statSync(join(tree.root, 'usr/bin/perl')).ino, statSync(join(tree.root, 'usr/bin/perl5.36.0')).ino);
  // Replacing the original keeps the remaining links together.
  tree.writeFile('usr/bin/perl5.36.0', 'new', { mode: 0o755 });
  const after = new Map(tree.entries().map((e) => [e.path, e]));
  assert.equal(after.get('usr/bin/perl5.36.0')!.hardlinkTo, undefined);
  assert.equal(after.get('usr/bin/perl')!.hardlinkTo, undefined);
  assert.equal(after.get('usr/bin/zperl')!.hardlinkTo, 'usr/bin/perl');
  assert.throws(() => tree.hardlink('x', 'usr/bin'), /not a regular file in the tree/);
});

test('entries are sorted component by component, bytewise', () => {
  for (const p of ['a-b', 'a/b', 'a.c', 'B', 'a/a']) tree.writeFile(p, '', { mode: 0o644 });
  assert.deepEqual(tree.entries().map((e) => e.path), ['B', 'a', 'a/a', 'a/b', 'a-b', 'a.c']);
});

test('rescan picks up changes made on disk, keeping owners of unchanged paths', () => {
  tree.mkdir('var/local', { mode: 0o2775, gid: 50 });
  tree.writeFile('etc/a', 'a', { mode: 0o644, gid: 42 });
  writeFileSync(join(tree.root, 'etc/new'), 'n');
  rmSync(join(tree.root, 'etc/a'));
  writeFileSync(join(tree.root, 'etc/a'), 'again');
  tree.rescan();
  assert.equal(tree.entry('var/local')?.gid, 50);
  assert.equal(tree.entry('etc/new')?.kind, 'file');
  assert.equal(tree.entry('etc/a')?.gid, 42, 'same kind at the same path keeps its owner');
});

test('a non-empty root folder is refused', () => {
  writeFileSync(join(base, 'root', 'x'), '');
  assert.throws(() => new RootTree(join(base, 'root')), /root folder .* is not empty/);
});
