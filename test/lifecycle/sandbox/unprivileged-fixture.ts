/**
 * Run by unprivileged.test.ts as a normal (non-root) user: prepares a rootfs and runs the bwrap executor
 * through unprivileged user namespaces, then prints what it saw as JSON on stdout.
 */
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBwrapExecutor } from '../../../src/lifecycle/sandbox/bwrap-executor.js';
import { prepareRootfs, removeReadOnlyTree } from '../../../src/lifecycle/sandbox/rootfs-cache.js';
import { makeToolsImage } from './tools-image.js';

const work = await mkdtemp(join(tmpdir(), 'cairn-unpriv-'));
try {
  const rootfs = await prepareRootfs(await makeToolsImage(), join(work, 'cache'));
  const mine = join(work, 'mine');
  mkdirSync(mine);
  const bwrap = createBwrapExecutor({ rootfs });
  let stdout = '';
  const r = await bwrap.run({
    argv: ['/bin/sh', '-c', 'id -u; id -g; ls -ln /bin/cat; echo built > /layers/mine/out; touch /x 2>/dev/null || echo rootfs-ro; test -w /proc/sys/vm/overcommit_memory || echo sysctl-ro'],
    env: { PATH: '/usr/bin:/bin' },
    cwd: '/',
    mounts: [{ host: mine, sandbox: '/layers/mine', writable: true }],
    uid: 1000,
    gid: 1000,
    onOutput: (c, s) => {
      if (s === 'stdout') stdout += c.toString();
    },
  });
  process.stdout.write(JSON.stringify({
    realUid: process.getuid!(),
    code: r.code,
    output: r.output,
    stdout,
    hostFile: readFileSync(join(mine, 'out'), 'utf8'),
    hostFileUid: lstatSync(join(mine, 'out')).uid,
    rootfsUid: lstatSync(join(rootfs, 'bin/cat')).uid,
  }));
} finally {
  removeReadOnlyTree(work);
}
