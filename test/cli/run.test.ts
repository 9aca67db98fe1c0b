/**
 * `cairn run`: an image from the local store, run with podman (its storage and run root isolated in a temp folder
 * through CONTAINERS_STORAGE_CONF, this machine's containers.conf through CONTAINERS_CONF): the default process
 * with -e, a process type with --entrypoint; a signal to cairn stops and removes the container; no engine on PATH
 * is a clear error.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { CAIRN_BIN, runCairn } from '../helpers/cli.js';
import { hostShellFiles, makeTestImage } from '../helpers/make-image.js';
import { CONTAINERS_CONF } from '../helpers/podman.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { needTool } from '../helpers/tools.js';

let base: string;
let env: Record<string, string>;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-run-'));
  await writeFile(join(base, 'containers.conf'), CONTAINERS_CONF);
  await writeFile(join(base, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${join(base, 'graph')}"\nrunroot = "${join(base, 'runroot')}"\n`);
  env = { CAIRN_HOME: join(base, 'home'), CONTAINERS_CONF: join(base, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(base, 'storage.conf') };
});
after(async () => rm(base, { recursive: true, force: true }));

test('cairn run runs the default process with -e, and a process type with --entrypoint', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'podman')) return;
  const storeDir = join(base, 'store');
  await makeTestBuilder(storeDir, base);
  const app = join(base, 'app');
  await mkdir(app);
  await writeFile(join(app, 'greeting.txt'), 'world');
  // A run image with bash (the greeter's tool is a bash script) and cat.
  const store = await openLayoutStore(storeDir);
  await makeTestImage(store, 'run-shell:v1', { layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' }, ...hostShellFiles(['/bin/bash', '/bin/cat', '/bin/sleep'])]], runtime: { User: '1000:1000' } });
  await store.close();
  const built = await runCairn(['build', 'greeter', '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:run-shell:v1`], { env });
  assert.equal(built.code, 0, built.stderr);
  const run = await runCairn(['run', 'greeter', '-e', 'GREETING=howdy', '--engine', 'podman'], { env, timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^howdy, world \(/m);
  const typed = await runCairn(['run', 'greeter', '--entrypoint', '/cnb/process/web', '--engine', 'podman'], { env, timeoutMs: 120_000 });
  assert.equal(typed.code, 0, typed.stderr);
  assert.match(typed.stdout, /^hello, world \(/m, 'the layer\'s GREETING default');
});

test('a signal to cairn run stops the container and removes it', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'podman')) return;
  const child = spawn(CAIRN_BIN, ['run', 'greeter', '--engine', 'podman', '--entrypoint', '/cnb/lifecycle/launcher', '--', 'sleep 300'],
    { env: { ...process.env, ...env }, stdio: 'ignore' });
  const ps = () => execFileSync('podman', ['ps', '-a', '-q'], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
  const until = async (what: string, ok: () => boolean) => {
    for (const deadline = Date.now() + 60_000; !ok(); await new Promise((r) => setTimeout(r, 250))) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    }
  };
  await until('the container to run', () => ps() !== '');
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  await closed;
  await until('the container to be gone', () => ps() === '');
});

test('no podman or docker: a clear error', async () => {
  // A PATH holding node (which bin/cairn runs) and nothing else.
  const path = join(base, 'path-node-only');
  await mkdir(path, { recursive: true });
  await symlink(process.execPath, join(path, 'node'));
  const r = await runCairn(['run', 'greeter'], { env: { ...env, PATH: path } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: neither podman nor docker is installed/m);
  assert.match(r.stderr, /^hint: /m);
});
