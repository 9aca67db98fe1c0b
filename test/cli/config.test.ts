/**
 * `cairn config`: each key set, shown, and unset through the CLI, kept in $CAIRN_HOME/config.toml; bad values and
 * a hand-broken file are clear errors; and what `cairn build` takes from it (the default builder, the pull
 * policy, a registry mirror) is checked against a test builder.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCairn } from '../helpers/cli.js';
import { startDockerRegistry } from '../helpers/docker-registry.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { needTool } from '../helpers/tools.js';

let base: string;
let env: { CAIRN_HOME: string };
const cairn = (args: string[]) => runCairn(args, { env });

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-config-'));
  env = { CAIRN_HOME: join(base, 'home') };
});
after(async () => rm(base, { recursive: true, force: true }));

test('keys are set, shown and unset; the file is pack-style TOML', async () => {
  assert.match((await cairn(['config', 'default-builder'])).stdout, /cairn\/builder:bookworm/);
  assert.equal((await cairn(['config', 'default-builder', 'team/builder:v2'])).code, 0);
  assert.equal((await cairn(['config', 'default-builder'])).stdout, 'team/builder:v2\n');
  assert.equal((await cairn(['config', 'pull-policy', 'if-not-present'])).code, 0);
  assert.equal((await cairn(['config', 'pull-policy'])).stdout, 'if-not-present\n');
  assert.equal((await cairn(['config', 'registry-mirrors', 'add', 'docker.io', '-m', '127.0.0.1:5000'])).code, 0);
  assert.equal((await cairn(['config', 'run-image-mirrors', 'add', 'cairn/run:tiny', '-m', 'ghcr.io/team/run:tiny', '-m', 'quay.io/team/run:tiny'])).code, 0);
  const text = await readFile(join(env.CAIRN_HOME, 'config.toml'), 'utf8');
  assert.match(text, /default-builder-image = "team\/builder:v2"/);
  assert.match(text, /pull-policy = "if-not-present"/);
  assert.match(text, /\[registry-mirrors\]\n"docker.io" = "127.0.0.1:5000"/);
  assert.match(text, /\[\[run-images\]\]\nimage = "cairn\/run:tiny"\nmirrors = \[ "ghcr.io\/team\/run:tiny", "quay.io\/team\/run:tiny" \]/);
  assert.equal((await cairn(['config', 'registry-mirrors', 'list'])).stdout, 'docker.io → 127.0.0.1:5000\n');
  assert.equal((await cairn(['config', 'run-image-mirrors', 'remove', 'cairn/run:tiny', '-m', 'quay.io/team/run:tiny'])).code, 0);
  assert.equal((await cairn(['config', 'run-image-mirrors', 'list'])).stdout, 'cairn/run:tiny\n  ghcr.io/team/run:tiny\n');
  for (const args of [['default-builder', '--unset'], ['pull-policy', '--unset'], ['registry-mirrors', 'remove', 'docker.io'], ['run-image-mirrors', 'remove', 'cairn/run:tiny']]) {
    assert.equal((await cairn(['config', ...args])).code, 0, args.join(' '));
  }
  assert.equal((await readFile(join(env.CAIRN_HOME, 'config.toml'), 'utf8')).trim(), '');
});

test('bad values and a broken file are clear errors', async () => {
  const policy = await cairn(['config', 'pull-policy', 'sometimes']);
  assert.equal(policy.code, 2);
  const host = await cairn(['config', 'registry-mirrors', 'add', 'docker.io', '-m', 'https://x/']);
  assert.equal(host.code, 2);
  assert.match(host.stderr, /is not a registry host/);
  const trusted = await cairn(['config', 'trusted-builders', 'add', 'x']);
  assert.equal(trusted.code, 2);
  assert.match(trusted.stderr, /cairn has no trusted builders/);
  const missing = await cairn(['config', 'registry-mirrors', 'remove', 'nowhere.io']);
  assert.equal(missing.code, 1);
  await mkdir(env.CAIRN_HOME, { recursive: true });
  await writeFile(join(env.CAIRN_HOME, 'config.toml'), 'default-builder = "typo"\n');
  const broken = await cairn(['config', 'default-builder']);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /config\.toml: unknown key "default-builder"/);
  await rm(join(env.CAIRN_HOME, 'config.toml'));
});

test('cairn build takes the default builder, the pull policy and a registry mirror from the config', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'docker-registry')) return;
  const storeDir = join(base, 'store');
  await makeTestBuilder(storeDir, base);
  const app = join(base, 'app');
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'greeting.txt'), 'hi');
  const registry = await startDockerRegistry();
  try {
    const flags = ['--insecure-registry', registry.host];
    for (const [from, to] of [['test-builder:latest', 'team/builder:v1'], ['test-run:v1', 'team/run:v1']]) {
      assert.equal((await cairn(['image', 'copy', `oci:${storeDir}:${from}`, `${registry.host}/${to}`, ...flags])).code, 0);
    }
    // The builder is named on an unreachable registry; the mirror (the real one) serves it.
    assert.equal((await cairn(['config', 'default-builder', 'unreachable.invalid:5000/team/builder:v1'])).code, 0);
    assert.equal((await cairn(['config', 'registry-mirrors', 'add', 'unreachable.invalid:5000', '-m', registry.host])).code, 0);
    assert.equal((await cairn(['config', 'pull-policy', 'never'])).code, 0);
    const build = (extra: string[]) => cairn(['build', 'from-config', '--path', app, '--run-image', `oci:${storeDir}:test-run:v1`, '--env', 'GREETER_SEED=1', '--json', ...flags, ...extra]);
    const never = await build([]);
    assert.equal(never.code, 1, 'pull-policy never from the config: not in the local store');
    assert.match(never.stderr, new RegExp(`${registry.host.replace(/\./g, '\\.')}/team/builder:v1 is not in the local store`));
    const pulled = await build(['--pull-policy', 'if-not-present']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(JSON.parse(pulled.stdout).buildpacks.map((b: { id: string }) => b.id), ['test/greeter']);
  } finally {
    await registry.stop();
  }
});
