import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MountPoint, RootfsView } from '../../../src/lifecycle/sandbox/rootfs-view.js';

/** The bwrap operations as [op, ...operands] groups. */
function ops(args: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < args.length;) {
    const op = args[i]!;
    const n = op === '--dir' || op === '--perms' ? 1 : 2;
    out.push(args.slice(i, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

const dir = (at: string): MountPoint => ({ at, kind: 'dir' });
const file = (at: string): MountPoint => ({ at, kind: 'file' });

describe('RootfsView', () => {
  let root: string;
  before(async () => {
    root = realpathSync(await mkdtemp(join(tmpdir(), 'cairn-view-')));
    for (const d of ['bin', 'etc/ssl', 'run/lock', 'usr/lib']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), '');
    writeFileSync(join(root, 'etc/resolv.conf'), 'nameserver 1.1.1.1\n');
    symlinkSync('/proc/self/mounts', join(root, 'etc/mtab'));
    symlinkSync('../run', join(root, 'var'));
    symlinkSync('usr/lib', join(root, 'lib'));
    chmodSync(join(root, 'etc'), 0o750);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('binds whole folders that hold no mount point', () => {
    const v = new RootfsView(root);
    assert.deepEqual(ops(v.args([dir('/tmp')])), [
      ['--ro-bind', `${root}/bin`, '/bin'],
      ['--ro-bind', `${root}/etc`, '/etc'],
      ['--symlink', 'usr/lib', '/lib'],
      ['--ro-bind', `${root}/run`, '/run'],
      ['--ro-bind', `${root}/usr`, '/usr'],
      ['--symlink', '../run', '/var'],
    ]);
  });

  it('synthesises the folders on the way to a mount point, entry by entry, with their modes', () => {
    const v = new RootfsView(root);
    // /etc/resolv.conf is a file in the image: a folder cannot be mounted over it where it is.
    const got = ops(v.args([dir('/etc/resolv.conf'), dir('/layers/bp'), dir('/var/lock/x')]));
    assert.deepEqual(got, [
      ['--ro-bind', `${root}/bin`, '/bin'],
      ['--perms', '0750'], ['--dir', '/etc'],
      ['--symlink', '/proc/self/mounts', '/etc/mtab'],
      ['--ro-bind', `${root}/etc/passwd`, '/etc/passwd'],
      ['--ro-bind', `${root}/etc/ssl`, '/etc/ssl'],
      ['--symlink', 'usr/lib', '/lib'],
      ['--ro-bind', `${root}/run`, '/run'],
      ['--ro-bind', `${root}/usr`, '/usr'],
      // /var is a symlink to ../run on the way to a mount point: replaced by a folder holding run's entries
      ['--perms', '0755'], ['--dir', '/var'],
      ['--perms', '0755'], ['--dir', '/var/lock'],
      ['--perms', '0755'], ['--dir', '/layers'],
    ]);
  });

  it('covers a mount point the image has, as a real entry of the same kind, where it is', () => {
    const v = new RootfsView(root);
    const whole = ops(v.args([dir('/tmp')]));
    assert.deepEqual(ops(v.args([file('/etc/resolv.conf'), dir('/etc/ssl'), dir('/run/lock'), dir('/tmp')])), whole, 'nothing synthesised');
    // reached through a symlink (/var → ../run, /lib → usr/lib): synthesised, as before
    assert.ok(ops(v.args([dir('/var/lock')])).some((o) => o[0] === '--dir' && o[1] === '/var'));
    assert.ok(ops(v.args([dir('/lib')])).every((o) => o[2] !== '/lib'), '/lib itself is left free for the mount');
    assert.ok(ops(v.args([file('/etc/mtab')])).some((o) => o[0] === '--dir' && o[1] === '/etc'), 'a symlink is no file to mount over');
  });
});
