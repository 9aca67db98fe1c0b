/**
 * The base-image layer writer keeps the entry table's metadata exactly (setuid, sticky, owners, hard links,
 * symlinks), fixes every mtime, and gives the same bytes for the same table whatever the order in which the
 * tree was made; an independent reader (system tar) agrees on what is inside.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listLayer } from '../../../src/oci/layer/list.js';
import { RootTree } from '../../../src/stack/root-tree.js';
import { writeTreeLayer } from '../../../src/stack/image/tree-layer.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-tree-layer-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const MTIME = new Date('2026-07-11T10:16:37Z');

/** The same tree, made in two different orders. */
function makeTree(root: string, reverse: boolean): RootTree {
  const tree = new RootTree(root);
  const steps: (() => void)[] = [
    () => tree.mkdir('tmp', { mode: 0o1777 }),
    () => tree.mkdir('home/cnb', { mode: 0o755, uid: 1000, gid: 1000 }),
    () => tree.writeFile('usr/bin/su', 'setuid program', { mode: 0o4755 }),
    () => tree.writeFile('etc/shadow', 'secret', { mode: 0o640, gid: 42 }),
    () => tree.symlink('bin', 'usr/bin'),
  ];
  for (const s of reverse ? [...steps].reverse() : steps) s();
  tree.writeFile('usr/bin/perl', 'interpreter', { mode: 0o755 });
  tree.hardlink('usr/bin/perl5', 'usr/bin/perl');
  return tree;
}

test('entries keep the table metadata, with one fixed mtime', async () => {
  const tree = makeTree(join(work, 'a'), false);
  const dest = join(work, 'a.tar.gz');
  const r = await writeTreeLayer(tree, dest, { mtime: MTIME });
  const entries = await listLayer(createReadStream(dest));
  const by = new Map(entries.map((e) => [e.path, e]));
  assert.deepEqual(entries.map((e) => e.path), ['bin', 'etc/', 'etc/shadow', 'home/', 'home/cnb/', 'tmp/', 'usr/', 'usr/bin/', 'usr/bin/perl', 'usr/bin/perl5', 'usr/bin/su']);
  assert.equal(by.get('tmp/')!.mode, 0o1777);
  assert.equal(by.get('usr/bin/su')!.mode, 0o4755);
  assert.deepEqual([by.get('etc/shadow')!.mode, by.get('etc/shadow')!.gid], [0o640, 42]);
  assert.deepEqual([by.get('home/cnb/')!.uid, by.get('home/cnb/')!.gid], [1000, 1000]);
  assert.deepEqual([by.get('bin')!.type, by.get('bin')!.linkname], ['symlink', 'usr/bin']);
  assert.deepEqual([by.get('usr/bin/perl5')!.type, by.get('usr/bin/perl5')!.linkname], ['hardlink', 'usr/bin/perl']);
  assert.ok(entries.every((e) => e.mtime === MTIME.getTime() / 1000), 'every mtime is the given one');
  assert.ok(r.size > 0 && r.tarSize % 512 === 0);

  // GNU tar reads the same: contents included.
  const out = join(work, 'a-x');
  execFileSync('mkdir', [out]);
  execFileSync('tar', ['-xzf', dest, '-C', out, '--same-owner', '-p']);
  assert.equal(execFileSync('cat', [join(out, 'usr/bin/su')], { encoding: 'utf8' }), 'setuid program');
  assert.equal(execFileSync('stat', ['-c', '%a %u:%g', join(out, 'home/cnb')], { encoding: 'utf8' }).trim(), '755 1000:1000');
});

test('the same table gives the same digest whatever the order the tree was made in', async () => {
  const a = await writeTreeLayer(makeTree(join(work, 'o1'), false), join(work, 'o1.tar.gz'), { mtime: MTIME });
  const b = await writeTreeLayer(makeTree(join(work, 'o2'), true), join(work, 'o2.tar.gz'), { mtime: MTIME });
  assert.equal(a.diffID, b.diffID);
  assert.equal(a.digest, b.digest);
  const c = await writeTreeLayer(makeTree(join(work, 'o3'), false), join(work, 'o3.tar.gz'), { mtime: new Date('2026-07-12T00:00:00Z') });
  assert.notEqual(c.diffID, a.diffID, 'the mtime is part of the bytes');
});

test('long names get PAX records and big files stream through', async () => {
  const tree = new RootTree(join(work, 'long'));
  const name = `usr/share/${'x'.repeat(120)}/file`;
  tree.writeFile(name, Buffer.alloc(3 * 1024 * 1024 + 7, 1), { mode: 0o644 });
  const dest = join(work, 'long.tar.gz');
  await writeTreeLayer(tree, dest, { mtime: MTIME });
  const entries = await listLayer(createReadStream(dest));
  const file = entries.find((e) => e.path === name)!;
  assert.equal(file.size, 3 * 1024 * 1024 + 7);
});
