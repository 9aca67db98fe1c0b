/** Work folders of builds: a new one is private (0700), and those of dead processes are removed first. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createWorkDir } from '../../src/platform/work-dir.js';

test('createWorkDir removes the folders of dead builds in this PID namespace and nothing else', async () => {
  const base = await mkdtemp(join(tmpdir(), 'cairn-workdir-'));
  try {
    const builds = join(base, 'builds');
    const ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]!;
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its pid is (almost surely) free
    const keep = [`${ns}-${process.pid}-aa`, `${ns}-1-bb`, `999-${dead}-cc`, 'legacy0123ab'];
    for (const name of [...keep, `${ns}-${dead}-dd`]) await mkdir(join(builds, name, 'layers'), { recursive: true });
    const dir = await createWorkDir(builds);
    assert.match(dir, new RegExp(`/${ns}-${process.pid}-[0-9a-f]{12}$`));
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.deepEqual((await readdir(builds)).sort(), [...keep, dir.split('/').at(-1)!].sort());
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
