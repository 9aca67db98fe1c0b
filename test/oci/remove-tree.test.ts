/**
 * removeTree: removes files, folders and symlinks (never following them), tolerates a missing path.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeTree } from '../../src/oci/remove-tree.js';

test('removes a tree, not what its symlinks point at; a missing path is fine', async () => {
  const base = await mkdtemp(join(tmpdir(), 'cairn-remove-'));
  try {
    const outside = join(base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'keep.txt'), 'keep');
    const tree = join(base, 'tree');
    for (let d = 0; d < 5; d++) {
      await mkdir(join(tree, `d${d}`, 'deeper'), { recursive: true });
      for (let f = 0; f < 40; f++) await writeFile(join(tree, `d${d}`, 'deeper', `f${f}`), `${f}`);
    }
    await symlink(outside, join(tree, 'link-to-dir'));
    await symlink(join(outside, 'keep.txt'), join(tree, 'd0', 'link-to-file'));
    await removeTree(tree);
    assert.equal(existsSync(tree), false);
    assert.equal(await readFile(join(outside, 'keep.txt'), 'utf8'), 'keep', 'symlinks are removed, not followed');
    await removeTree(tree);
    await removeTree(join(outside, 'keep.txt'));
    assert.equal(existsSync(join(outside, 'keep.txt')), false, 'a single file');
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
