import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveInRoot } from '../../../src/lifecycle/sandbox/in-root.js';

describe('resolveInRoot', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-in-root-'));
    mkdirSync(join(root, 'usr/lib'), { recursive: true });
    mkdirSync(join(root, 'run'));
    writeFileSync(join(root, 'usr/lib/f'), 'x');
    symlinkSync('usr/lib', join(root, 'lib'));
    symlinkSync('../run', join(root, 'usr/run'));
    symlinkSync('/etc', join(root, 'escape')); // absolute: must stay inside the root
    symlinkSync('../../../../etc', join(root, 'dotdot'));
    symlinkSync('loop', join(root, 'loop'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('follows symlinks inside the root, as a chrooted process would', () => {
    assert.equal(resolveInRoot(root, '/lib/f')?.host, join(root, 'usr/lib/f'));
    assert.equal(resolveInRoot(root, '/usr/run')?.host, join(root, 'run'));
    assert.equal(resolveInRoot(root, '/')?.host, root);
    assert.ok(resolveInRoot(root, '/lib')?.stats.isDirectory());
  });

  it('never leaves the root', () => {
    assert.equal(resolveInRoot(root, '/escape'), null, '/etc does not exist inside the root');
    assert.equal(resolveInRoot(root, '/dotdot'), null);
    assert.equal(resolveInRoot(root, '/../../usr/lib/f')?.host, join(root, 'usr/lib/f'));
  });

  it('gives null for missing paths, paths through files and loops', () => {
    assert.equal(resolveInRoot(root, '/nope'), null);
    assert.equal(resolveInRoot(root, '/usr/lib/f/x'), null);
    assert.equal(resolveInRoot(root, '/loop'), null);
  });
});
