/**
 * pack's build flags not covered elsewhere, each through the CLI over a test builder: --env-file and --env K (from
 * the environment), --creation-time, --default-process, --tag, --cache-dir; and the acceptance point that the
 * same build gives the same manifest digest whatever the output: the local store, oci:, a registry (--publish)
 * or a docker-archive.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validateLayout } from '../../src/oci/store/layout/validate-layout.js';
import { runCairn } from '../helpers/cli.js';
import { startDockerRegistry } from '../helpers/docker-registry.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { needTool } from '../helpers/tools.js';

let base: string;
let storeDir: string;
let app: string;
let printer: string;
let env: Record<string, string>;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-build-basics-'));
  storeDir = join(base, 'store');
  await makeTestBuilder(storeDir, base);
  app = join(base, 'app');
  await mkdir(app);
  await writeFile(join(app, 'greeting.txt'), 'hi');
  // A buildpack that prints two build-time variables and declares two processes.
  printer = join(base, 'printer');
  await mkdir(join(printer, 'bin'), { recursive: true });
  await writeFile(join(printer, 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "test/printer"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n');
  await writeFile(join(printer, 'bin', 'detect'), '#!/bin/sh\nexit 0\n');
  await writeFile(join(printer, 'bin', 'build'), '#!/bin/sh\necho "FROM_FILE=$FROM_FILE FROM_SHELL=$FROM_SHELL"\nprintf \'[[processes]]\\ntype = "web"\\ncommand = ["true"]\\ndefault = true\\n[[processes]]\\ntype = "worker"\\ncommand = ["false"]\\n\' > "$CNB_LAYERS_DIR/launch.toml"\n');
  for (const f of ['detect', 'build']) await chmod(join(printer, 'bin', f), 0o755);
  env = { CAIRN_HOME: join(base, 'home') };
});
after(async () => rm(base, { recursive: true, force: true }));

const builderFlags = () => ['--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:test-run:v1`];

async function inspect(ref: string, extra: string[] = []): Promise<{ digest: string; config: { created?: string; config?: { Entrypoint?: string[] } } }> {
  const r = await runCairn(['image', 'inspect', ref, '--json', ...extra], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('--env-file and --env K reach the buildpacks; --default-process picks the entrypoint; --creation-time sets created', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const file = join(base, 'build.env');
  await writeFile(file, '# a comment\nFROM_FILE=from the file\n\n');
  const r = await runCairn(['build', 'basics', '--path', app, ...builderFlags(), '--buildpack', printer, '--env-file', file, '--env', 'FROM_SHELL',
    '--default-process', 'worker', '--creation-time', '1700000000'], { env: { ...env, FROM_SHELL: 'from the shell' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /FROM_FILE=from the file FROM_SHELL=from the shell/);
  const img = await inspect('basics');
  assert.equal(img.config.created, '2023-11-14T22:13:20Z');
  assert.deepEqual(img.config.config?.Entrypoint, ['/cnb/process/worker']);
  const now = await runCairn(['build', 'basics-now', '--path', app, ...builderFlags(), '--buildpack', printer, '--creation-time', 'now'], { env });
  assert.equal(now.code, 0, now.stderr);
  assert.ok(Math.abs(Date.parse((await inspect('basics-now')).config.created!) - Date.now()) < 120_000, 'created is now');
  const bad = await runCairn(['build', 'x', '--path', app, ...builderFlags(), '--creation-time', 'yesterday'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--creation-time "yesterday" is neither "now" nor a number of seconds/);
});

test('--tag writes the same image under every name; --cache-dir keeps the cache there', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const cacheDir = join(base, 'my-cache');
  const r = await runCairn(['build', 'tagged:a', '--tag', 'tagged:b', '--tag', `oci:${join(base, 'tags')}:c`, '--path', app, ...builderFlags(), '--cache-dir', cacheDir, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const digest = (JSON.parse(r.stdout) as { digest: string }).digest;
  for (const ref of ['tagged:a', 'tagged:b', `oci:${join(base, 'tags')}:c`]) assert.equal((await inspect(ref)).digest, digest, ref);
  assert.ok((await readdir(cacheDir)).length > 0, 'the cache is in --cache-dir');
});

test('the same build, the same manifest digest: local store, oci:, a registry, a docker-archive', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'docker-registry')) return;
  const registry = await startDockerRegistry();
  try {
    const insecure = ['--insecure-registry', registry.host];
    const outputs = ['repro', `oci:${join(base, 'repro-oci')}:repro`, `${registry.host}/team/repro:1`, `docker-archive:${join(base, 'repro.tar')}:repro:1`];
    const digests: string[] = [];
    for (const out of outputs) {
      const r = await runCairn(['build', out, '--path', app, ...builderFlags(), '--env', 'GREETER_SEED=5', '--json', ...(out.startsWith(registry.host) ? ['--publish', ...insecure] : [])], { env });
      assert.equal(r.code, 0, `${out}: ${r.stderr}`);
      digests.push((JSON.parse(r.stdout) as { digest: string }).digest);
    }
    assert.equal(new Set(digests).size, 1, digests.join(' '));
    // Read back from each place.
    assert.equal((await inspect(`oci:${join(base, 'repro-oci')}:repro`)).digest, digests[0]);
    assert.equal((await inspect(`${registry.host}/team/repro:1`, insecure)).digest, digests[0]);
    assert.equal((await inspect(`docker-archive:${join(base, 'repro.tar')}`)).digest, digests[0]);
  } finally {
    await registry.stop();
  }
});

test('bad input — an unknown flag, a missing app folder, an invalid name, a missing builder, a registry that refuses the push — fails clearly and leaves the store and the previous image as they were', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'docker-registry')) return;
  const first = await runCairn(['build', 'kept', '--path', app, ...builderFlags(), '--json'], { env });
  assert.equal(first.code, 0, first.stderr);
  const kept = (JSON.parse(first.stdout) as { digest: string }).digest;
  const registry = await startDockerRegistry({ htpasswd: { alice: 'secret' } });
  try {
    const cases: { args: string[]; code: number; message: RegExp }[] = [
      { args: ['build', 'kept', '--path', app, ...builderFlags(), '--frobnicate'], code: 2, message: /unknown option '--frobnicate'/ },
      { args: ['build', 'kept', '--path', join(base, 'no-such-app'), ...builderFlags()], code: 2, message: /the app folder .*no-such-app does not exist/ },
      { args: ['build', 'Not A Name!', '--path', app, ...builderFlags()], code: 2, message: /Not A Name!/ },
      { args: ['build', 'kept', '--path', app, '--builder', 'no-such/builder:v9'], code: 1, message: /no-such\/builder:v9/ },
      { args: ['build', `${registry.host}/team/kept:1`, '--publish', '--insecure-registry', registry.host, '--path', app, ...builderFlags()], code: 1, message: /unauthori[sz]ed|401|credentials/i },
    ];
    for (const c of cases) {
      const r = await runCairn(c.args, { env });
      assert.equal(r.code, c.code, `${c.args.join(' ')}\n${r.stderr}`);
      assert.match(r.stderr, /^error: /m);
      assert.match(r.stderr, c.message);
      assert.ok(r.stderr.trim().split('\n').length <= 3, `one or two lines and a hint:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --verbose');
      assert.equal((await inspect('kept')).digest, kept, 'the previous image is untouched');
    }
    await validateLayout(join(env.CAIRN_HOME!, 'store'));
  } finally {
    await registry.stop();
  }
});
