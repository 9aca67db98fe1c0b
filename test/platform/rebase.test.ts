/**
 * Rebase, tested: build on run image v1, make v2, `cairn rebase` → every app layer keeps its digest, the base
 * layers are v2's, the image still validates. Against a real registry (behind a counting proxy), a rebase
 * uploads only the config and the manifest. Another run image repository needs --force.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadImage } from '../../src/oci/image.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { validate } from '../../src/oci/validate.js';
import { runCairn } from '../helpers/cli.js';
import { CountingProxy } from '../helpers/counting-proxy.js';
import { type RunningRegistry, startDockerRegistry } from '../helpers/docker-registry.js';
import { makeTestImage } from '../helpers/make-image.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { needTool, whichTool } from '../helpers/tools.js';

let base: string;
let registry: RunningRegistry | undefined;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-rebase-'));
  if (whichTool('docker-registry')) registry = await startDockerRegistry();
});
after(async () => {
  await registry?.stop();
  await rm(base, { recursive: true, force: true });
});

test('rebase keeps every app layer and swaps the base; only config and manifest go to the registry', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'docker-registry')) return;
  const storeDir = join(base, 'store');
  await makeTestBuilder(storeDir, base);
  const store = await openLayoutStore(storeDir);
  await makeTestImage(store, 'test-run:v2', { layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1.1\n' }], [{ path: 'etc/patched', content: 'yes' }]], runtime: { User: '1000:1000' } });
  await makeTestImage(store, 'other-run:v1', { layers: [[{ path: 'etc/os-release', content: 'ID=other\n' }]], runtime: { User: '1000:1000' } });
  const app = join(base, 'app');
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'greeting.txt'), 'rebase');
  const env = { CAIRN_HOME: join(base, 'home') };
  const layout = (tag: string) => `oci:${storeDir}:${tag}`;
  const built = await runCairn(['build', layout('app'), '--path', app, '--builder', layout('test-builder:latest'), '--run-image', layout('test-run:v1'), '--env', 'GREETER_SEED=3'], { env });
  assert.equal(built.code, 0, built.stderr);
  const before = await loadImage(store, 'app');
  const v1 = await loadImage(store, 'test-run:v1');
  const v2 = await loadImage(store, 'test-run:v2');

  const { cp } = await import('node:fs/promises');
  await cp(storeDir, join(base, 'before-rebase'), { recursive: true });
  const rebased = await runCairn(['rebase', layout('app'), '--run-image', layout('test-run:v2')], { env });
  assert.equal(rebased.code, 0, rebased.stderr);
  const after = await loadImage(await openLayoutStore(storeDir), 'app');
  await validate(after);
  const appLayers = before.layers.slice(v1.layers.length).map((l) => l.digest);
  assert.deepEqual(after.layers.slice(v2.layers.length).map((l) => l.digest), appLayers, 'every app layer keeps its digest');
  assert.deepEqual(after.layers.slice(0, v2.layers.length).map((l) => l.digest), v2.layers.map((l) => l.digest), 'the base layers are v2\'s');
  assert.match(after.config.config!.Labels!['io.buildpacks.lifecycle.metadata']!, new RegExp(v2.layers.at(-1)!.diffID));

  const diff = await runCairn(['diff', `oci:${join(base, 'before-rebase')}:app`, layout('app'), '--json'], { env });
  assert.equal(diff.code, 0, diff.stderr);
  const changes = JSON.parse(diff.stdout) as { change: string; kind: string; owner: string }[];
  assert.ok(changes.filter((c) => c.kind !== 'base').every((c) => c.change === 'shared'), 'a rebase changes no app, buildpack or launcher layer');
  assert.deepEqual(changes.filter((c) => c.kind === 'base').map((c) => c.change), ['replaced', 'added'], 'v2 replaces the one base layer of v1 and adds one');
  const inspected = await runCairn(['inspect', layout('app'), '--json'], { env });
  const info = JSON.parse(inspected.stdout) as { buildpacks: { id: string }[]; layers: { owner: string }[]; rebasable: boolean };
  assert.deepEqual(info.buildpacks.map((b) => b.id), ['test/greeter']);
  assert.deepEqual(info.layers.map((l) => l.owner), ['base', 'base', 'test/greeter:deps', 'test/greeter:tool', 'app', 'launcher', 'launcher config', 'process types']);
  assert.equal(info.rebasable, true);

  const other = await runCairn(['rebase', layout('app'), '--run-image', layout('other-run:v1')], { env });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /not the run image the app was built on[\s\S]*hint: pass --force/);
  const forced = await runCairn(['rebase', layout('app'), '--run-image', layout('other-run:v1'), '--force'], { env });
  assert.equal(forced.code, 0, forced.stderr);

  // The registry: the app (built on v1) and v2 are there; a rebase through a counting proxy.
  const host = registry!.host;
  for (const [src, dst] of [[layout('test-run:v1'), 'run:v1'], [layout('test-run:v2'), 'run:v2']] as const) {
    const r = await runCairn(['image', 'copy', src, `${host}/cairn/${dst}`, '--insecure-registry', host], { env });
    assert.equal(r.code, 0, r.stderr);
  }
  const rebuilt = await runCairn(['build', layout('app2'), '--path', app, '--builder', layout('test-builder:latest'), '--run-image', layout('test-run:v1'), '--env', 'GREETER_SEED=3'], { env });
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  const pushApp = await runCairn(['image', 'copy', layout('app2'), `${host}/cairn/app:1`, '--insecure-registry', host], { env });
  assert.equal(pushApp.code, 0, pushApp.stderr);
  const proxy = await CountingProxy.start(host);
  try {
    const r = await runCairn(['rebase', `${proxy.host}/cairn/app:1`, '--run-image', `${proxy.host}/cairn/run:v2`, '--insecure-registry', proxy.host, '--force', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const uploads = proxy.records.filter((x) => x.method === 'PUT' || x.method === 'PATCH' || (x.method === 'POST' && x.requestBytes > 0));
    const uploaded = uploads.reduce((n, x) => n + x.requestBytes, 0);
    const result = JSON.parse(r.stdout) as { keptLayers: number };
    assert.ok(result.keptLayers >= 4);
    assert.ok(uploaded < 16 * 1024, `uploaded ${uploaded} bytes: only the config and the manifest`);
    assert.equal(uploads.filter((x) => x.method === 'PUT' && x.path.includes('/manifests/')).length, 1);
    assert.equal(proxy.records.filter((x) => x.method === 'GET' && x.path.includes('/blobs/') && x.responseBytes > 16 * 1024).length, 0, 'no app layer is read');
  } finally {
    await proxy.stop();
  }
});
