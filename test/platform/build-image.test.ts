/**
 * cairn's platform side of a build: a builder image (build rootfs + buildpacks + order + run.toml +
 * launcher) → its root filesystem prepared once → creator in the sandbox → the image in the output store →
 * the cache committed. Building twice gives the same digest; the user's app folder is never written; the extra
 * CA certificates reach the build but not the image.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { buildImage } from '../../src/platform/build-image.js';
import { needTool } from '../helpers/tools.js';
import { makeTestBuilder } from '../helpers/test-builder.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-platform-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

test('build an app with a builder image, twice: same digest, app folder untouched, CAs only in the build', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const storeDir = join(base, 'store');
  await makeTestBuilder(storeDir, base);
  const app = join(base, 'app');
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'greeting.txt'), 'world');
  const ca = '-----BEGIN CERTIFICATE-----\nMIIBcairnTESTca0000\n-----END CERTIFICATE-----\n';
  const run = async () => {
    const store = await openLayoutStore(storeDir);
    return buildImage({
      appDir: app,
      builder: { store, ref: 'test-builder:latest', name: 'test-builder' },
      outputs: [{ store, tag: 'myapp:latest', name: 'myapp' }],
      previous: { store, ref: 'myapp:latest', name: 'myapp' },
      openRunImage: async (name) => ({ store, ref: name, name }),
      home: join(base, 'home'),
      env: { GREETER_SEED: '7' },
      caCerts: [ca],
      log: () => undefined,
      processEnv: { PATH: '/usr/bin:/bin' },
      platform: { os: 'linux', architecture: 'amd64' },
    });
  };
  const first = await run();
  assert.ok(first.reused === false);
  assert.deepEqual(first.detected.group.group.map((g) => g.id), ['test/greeter']);
  const second = await run();
  assert.ok(second.reused === false, 'the library runs the lifecycle unless asked to reuse');
  assert.equal(second.digest, first.digest, 'same source, same digest');
  assert.equal(second.exported.reusedLayers, 2);
  assert.deepEqual(await readdir(app), ['greeting.txt'], 'the user\'s app folder is not written');

  const store = await openLayoutStore(storeDir);
  const { loadImage } = await import('../../src/oci/image.js');
  const img = await loadImage(store, 'myapp:latest');
  assert.equal(img.config.config!.Labels!['io.buildpacks.lifecycle.metadata']!.includes('test-run:v1'), true);
  for (const layer of img.layers) {
    const chunks: Buffer[] = [];
    for await (const c of await layer.compressed()) chunks.push(c as Buffer);
    assert.equal(gunzipSync(Buffer.concat(chunks)).includes('MIIBcairnTESTca'), false, 'the build CA is in no layer');
  }
  assert.deepEqual(await readdir(join(base, 'home', 'builds')), [], 'work folders are removed');
});

test('cairn build on the command line: a build, an unsupported pack flag, a missing builder', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const { runCairn } = await import('../helpers/cli.js');
  const storeDir = join(base, 'cli-store');
  await makeTestBuilder(storeDir, base);
  const app = join(base, 'cli-app');
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'greeting.txt'), 'cli');
  const env = { CAIRN_HOME: join(base, 'cli-home') };
  const ok = await runCairn(['build', `oci:${storeDir}:cli-app`, '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:test-run:v1`, '--env', 'GREETER_SEED=1', '--json'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { digest: string; buildpacks: { id: string }[] };
  assert.match(out.digest, /^sha256:/);
  assert.deepEqual(out.buildpacks.map((b) => b.id), ['test/greeter']);
  const volume = await runCairn(['build', 'x', '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`, '--volume', '/a:/b'], { env });
  assert.equal(volume.code, 2);
  assert.match(volume.stderr, /--volume is not supported by cairn/);
  const none = await runCairn(['build', 'x', '--path', app, '--builder', 'no-such-builder:v1'], { env });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /^error: .*no-such-builder/m);
});
