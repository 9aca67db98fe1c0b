/**
 * builder create at the library level, over a small fake build image and a stand-in launcher: layers and
 * their modes/owners, the files under /cnb, the labels read back by describeBuilder, determinism, and the
 * errors that name the culprit before anything expensive (the launcher) is asked for.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { after, before, test } from 'node:test';
import { parseBuilderToml } from '../../src/builder/builder-toml.js';
import { createBuilder } from '../../src/builder/create-builder.js';
import { describeBuilder } from '../../src/builder/inspect.js';
import { type Image, loadImage } from '../../src/oci/image.js';
import type { Layer } from '../../src/oci/layer.js';
import { listLayer } from '../../src/oci/layer/list.js';
import { MemoryStore } from '../../src/oci/store/memory/memory-store.js';
import { validate } from '../../src/oci/validate.js';
import { parseOrderToml } from '../../src/lifecycle/files/order-toml.js';
import { parseRunToml, parseStackToml } from '../../src/lifecycle/files/run-toml.js';
import { extractLayer } from '../../src/oci/layer/extract.js';
import { makeTestImage } from '../helpers/make-image.js';

const FIXTURES = fileURLToPath(new URL('../../../test/builder/fixtures/', import.meta.url));
let work: string;
let buildImage: Image;
let launcher: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-builder-'));
  const store = new MemoryStore('test');
  await makeTestImage(store, 'build', {
    layers: [[{ path: 'etc/os-release', content: 'ID=debian\n' }]],
    runtime: { User: '1000:1001', Env: ['PATH=/usr/bin:/bin', 'CNB_USER_ID=1000', 'CNB_GROUP_ID=1001'], Labels: { 'io.buildpacks.stack.id': 'test.stack', 'io.buildpacks.base.id': 'test.stack' } },
  });
  buildImage = await loadImage(store, 'build');
  launcher = join(work, 'launcher');
  await writeFile(launcher, '#!/bin/sh\necho launcher\n');
  await chmod(launcher, 0o755);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const TOML = `
description = "test builder"
[[buildpacks]]
uri = "hello"
[[buildpacks]]
uri = "world"
[[buildpacks]]
uri = "meta"
[[buildpacks]]
uri = "urn:cnb:builder:example/world@2.0.0"
[[order]]
group = [ { id = "example/meta" } ]
[[order]]
group = [ { id = "example/hello" }, { id = "example/world", optional = true } ]
[build]
image = "test/build"
[[build.env]]
name = "GREETING"
value = "hi"
suffix = "default"
[[run.images]]
image = "example/run:tiny"
mirrors = ["mirror.example.com/run:tiny"]
`;

async function create(toml: string, opts: { baseDir?: string; onLauncher?: () => void } = {}) {
  return createBuilder({
    config: parseBuilderToml(toml, 'builder.toml'),
    configName: 'builder.toml',
    buildImage,
    launcher: async () => {
      opts.onLauncher?.();
      return launcher;
    },
    version: '0.1.0',
    sources: { baseDir: opts.baseDir ?? FIXTURES, workDir: await mkdtemp(join(work, 'w-')), openImage: () => Promise.reject(new Error('no images here')) },
  });
}

async function entries(layer: Layer) {
  return listLayer(await layer.compressed());
}

test('layers, files and labels of a builder, read back by describeBuilder', async () => {
  const { image, order } = await create(TOML);
  await validate(image);
  const base = buildImage.layers.length;
  assert.equal(image.layers.length, base + 6, 'folders, lifecycle, three buildpacks, config');
  assert.deepEqual(image.layers.slice(0, base).map((l) => l.digest), buildImage.layers.map((l) => l.digest), 'the build image is the base');

  const folders = await entries(image.layers[base]!);
  const owner = (p: string) => folders.find((e) => e.path === p);
  assert.deepEqual([owner('workspace/')!.uid, owner('workspace/')!.gid, owner('layers/')!.uid], [1000, 1001, 1000]);
  assert.deepEqual([owner('cnb/buildpacks/')!.uid, owner('platform/env/')!.mode, owner('cnb/build-config/env/')!.mode], [0, 0o755, 0o755]);

  const lifecycle = await entries(image.layers[base + 1]!);
  assert.deepEqual(lifecycle.map((e) => [e.path, e.type, e.mode]), [['cnb/', 'dir', 0o755], ['cnb/lifecycle/', 'dir', 0o755], ['cnb/lifecycle/launcher', 'file', 0o755], ['lifecycle', 'symlink', 0o777]]);

  const hello = await entries(image.layers[base + 2]!);
  assert.deepEqual(hello.map((e) => `${e.path} ${e.mode.toString(8)} ${e.uid}:${e.gid}`), [
    'cnb/ 755 0:0', 'cnb/buildpacks/ 755 0:0', 'cnb/buildpacks/example_hello/ 755 0:0', 'cnb/buildpacks/example_hello/1.0.0/ 755 0:0',
    'cnb/buildpacks/example_hello/1.0.0/bin/ 755 0:0', 'cnb/buildpacks/example_hello/1.0.0/bin/build 755 0:0',
    'cnb/buildpacks/example_hello/1.0.0/bin/detect 755 0:0', 'cnb/buildpacks/example_hello/1.0.0/buildpack.toml 644 0:0',
  ]);
  assert.ok(hello.every((e) => e.mtime === 315532801), 'mtime 1980-01-01T00:00:01Z');

  const root = await mkdtemp(join(work, 'config-'));
  await extractLayer((await image.layers[base + 5]!.compressed()).pipe(createGunzip()), root);
  const orderToml = parseOrderToml(await readFile(join(root, 'cnb/order.toml'), 'utf8'));
  assert.deepEqual(orderToml.order.map((g) => g.group.map((r) => `${r.id}@${r.version}${r.optional ? '?' : ''}`)), [['example/meta@1.0.0'], ['example/hello@1.0.0', 'example/world@2.0.0?']]);
  assert.deepEqual(parseRunToml(await readFile(join(root, 'cnb/run.toml'), 'utf8')).images, [{ image: 'example/run:tiny', mirrors: ['mirror.example.com/run:tiny'] }]);
  assert.deepEqual(parseStackToml(await readFile(join(root, 'cnb/stack.toml'), 'utf8')).runImage, { image: 'example/run:tiny', mirrors: ['mirror.example.com/run:tiny'] });
  assert.equal(await readFile(join(root, 'cnb/build-config/env/GREETING.default'), 'utf8'), 'hi');

  const cc = image.config.config!;
  assert.equal(cc.WorkingDir, '/layers');
  assert.equal(cc.User, '1000:1001');
  assert.ok(cc.Env!.includes('CNB_USER_ID=1000') && cc.Env!.includes('CNB_LAYERS_DIR=/layers') && cc.Env!.includes('PATH=/usr/bin:/bin'));
  assert.equal(cc.Labels!['io.buildpacks.base.id'], 'test.stack', 'the build image\'s labels stay');

  const d = describeBuilder(image, 'test');
  assert.equal(d.description, 'test builder');
  assert.deepEqual(d.createdBy, { name: 'cairn', version: '0.1.0' });
  assert.equal(d.stackId, 'test.stack');
  assert.equal(d.builderApi, '0.1');
  assert.deepEqual(d.user, { uid: 1000, gid: 1001 });
  assert.deepEqual(d.runImages, [{ image: 'example/run:tiny', mirrors: ['mirror.example.com/run:tiny'] }]);
  assert.deepEqual(d.lifecycle, { version: '0.1.0', apis: { buildpack: { deprecated: [], supported: ['0.10', '0.11', '0.12'] }, platform: { deprecated: [], supported: ['0.13', '0.14', '0.15'] } } });
  assert.deepEqual(d.buildpacks.map((b) => `${b.id}@${b.version} api ${b.api}`), ['example/hello@1.0.0 api 0.10', 'example/world@2.0.0 api 0.11', 'example/meta@1.0.0 api 0.10']);
  assert.deepEqual(d.buildpacks.map((b) => b.layerDiffID), image.layers.slice(base + 2, base + 5).map((l) => l.diffID));
  assert.deepEqual(d.order, order);
  assert.deepEqual(d.buildpacks[2]!.order, [{ group: [{ id: 'example/hello', version: '1.0.0' }, { id: 'example/world', version: '2.0.0', optional: true }] }]);
  const md = JSON.parse(cc.Labels!['io.buildpacks.builder.metadata']!);
  assert.deepEqual(Object.keys(md), ['description', 'buildpacks', 'extensions', 'stack', 'lifecycle', 'createdBy', 'images'], 'pack\'s field order');
  assert.deepEqual(md.lifecycle.api, { buildpack: '0.10', platform: '0.13' });

  const again = await create(TOML);
  assert.equal(again.image.digest, image.digest, 'the same inputs give the same builder digest');
});

test('bin/ files are executable in the layer even when they are not on disk', async () => {
  const dir = await mkdtemp(join(work, 'noexec-'));
  await cp(join(FIXTURES, 'hello'), join(dir, 'hello'), { recursive: true });
  await chmod(join(dir, 'hello/bin/detect'), 0o644);
  await chmod(join(dir, 'hello/bin/build'), 0o600);
  const { image } = await create('[[buildpacks]]\nuri = "hello"\n[[order]]\ngroup = [{ id = "example/hello" }]\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n', { baseDir: dir });
  const layer = await entries(image.layers[buildImage.layers.length + 2]!);
  const modes = Object.fromEntries(layer.map((e) => [e.path.split('/').slice(-2).join('/'), e.mode]));
  assert.deepEqual([modes['bin/detect'], modes['bin/build'], modes['1.0.0/buildpack.toml']], [0o755, 0o755, 0o644]);
});

test('errors name the culprit and come before the launcher is built', async () => {
  let launcherCalls = 0;
  const onLauncher = () => void launcherCalls++;
  const rejects = async (toml: string, message: RegExp, baseDir?: string) => {
    await assert.rejects(create(toml, { onLauncher, ...(baseDir ? { baseDir } : {}) }), (e: Error) => {
      assert.match(e.message, message);
      return true;
    });
  };
  const images = '[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n';
  await rejects(`[[buildpacks]]\nuri = "hello"\n[[order]]\ngroup = [{ id = "example/missing" }]\n${images}`, /order\[0\]\.group\[0\] names buildpack example\/missing, which is not in the builder/);
  await rejects(`[[buildpacks]]\nuri = "hello"\n[[order]]\ngroup = [{ id = "example/hello", version = "9.9.9" }]\n${images}`, /names example\/hello@9\.9\.9, but the builder has example\/hello 1\.0\.0/);
  await rejects(`[[buildpacks]]\nuri = "meta"\n[[order]]\ngroup = [{ id = "example/meta" }]\n${images}`, /composite buildpack example\/meta@1\.0\.0 .* needs example\/hello@1\.0\.0, which is not in the builder/);
  await rejects(`[[buildpacks]]\nuri = "no-such-folder-here"\n${images}`, /no-such-folder-here/);
  await rejects(`[[buildpacks]]\nuri = "./no-such-folder"\n${images}`, /buildpack \.\/no-such-folder: there is no file or folder/);
  await rejects(`[[buildpacks]]\nuri = "urn:cnb:builder:example/ghost"\n${images}`, /buildpacks\[0\]: buildpack example\/ghost is not in the builder/);
  await rejects(`[[buildpacks]]\nuri = "hello"\nid = "example/other"\n${images}`, /hello holds buildpack example\/hello@1\.0\.0, not example\/other/);
  await rejects(`[stack]\nid = "another.stack"\n${images}`, /stack\.id "another\.stack" does not match the build image's stack id "test\.stack"/);

  const old = await mkdtemp(join(work, 'old-'));
  await cp(join(FIXTURES, 'world'), join(old, 'old'), { recursive: true });
  await writeFile(join(old, 'old/buildpack.toml'), 'api = "0.7"\n[buildpack]\nid = "example/old"\nversion = "0.1.0"\n[[stacks]]\nid = "*"\n');
  await rejects(`[[buildpacks]]\nuri = "old"\n${images}`, /buildpack example\/old@0\.1\.0 .* uses Buildpack API 0\.7, which cairn's lifecycle does not support/, old);
  await writeFile(join(old, 'old/buildpack.toml'), '[buildpack]\nid = "example/old"\nversion = "0.1.0"\n');
  await rejects(`[[buildpacks]]\nuri = "old"\n${images}`, /buildpack\.toml.*api/, old);

  // Two versions of one id: an order entry must say which.
  const two = await mkdtemp(join(work, 'two-'));
  await cp(join(FIXTURES, 'world'), join(two, 'w2'), { recursive: true });
  await cp(join(FIXTURES, 'world'), join(two, 'w3'), { recursive: true });
  await writeFile(join(two, 'w3/buildpack.toml'), (await readFile(join(two, 'w2/buildpack.toml'), 'utf8')).replace('2.0.0', '3.0.0'));
  await rejects(`[[buildpacks]]\nuri = "w2"\n[[buildpacks]]\nuri = "w3"\n[[order]]\ngroup = [{ id = "example/world" }]\n${images}`, /several versions of example\/world \(2\.0\.0, 3\.0\.0\)/, two);
  assert.equal(launcherCalls, 0, 'the launcher is never built for an invalid builder');
});

test('an extracted builder layer stream reads back with the right file contents', async () => {
  const { image } = await create('[[buildpacks]]\nuri = "hello"\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n');
  const root = await mkdtemp(join(work, 'x-'));
  await extractLayer((await image.layers[buildImage.layers.length + 1]!.compressed()).pipe(createGunzip()), root);
  assert.equal(await readFile(join(root, 'cnb/lifecycle/launcher'), 'utf8'), '#!/bin/sh\necho launcher\n');
});

test('runtimes are carried at /cnb/runtime/<name>/ in a layer of their own', async () => {
  const node = await mkdtemp(join(work, 'node-'));
  await mkdir(join(node, 'bin'));
  await writeFile(join(node, 'bin/node'), 'not really node');
  await chmod(join(node, 'bin/node'), 0o755);
  const toml = '[[buildpacks]]\nuri = "hello"\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n';
  const config = parseBuilderToml(toml, 'builder.toml');
  const sources = { baseDir: FIXTURES, workDir: await mkdtemp(join(work, 'w-')), openImage: () => Promise.reject(new Error('no images here')) };
  const { image } = await createBuilder({ config, configName: 'builder.toml', buildImage, launcher: async () => launcher, version: '0.1.0', runtimes: [{ name: 'node', dir: node }], sources });
  const runtime = await entries(image.layers[buildImage.layers.length + 2]!);
  assert.deepEqual(runtime.map((e) => `${e.path} ${e.mode.toString(8)}`), ['cnb/ 755', 'cnb/runtime/ 755', 'cnb/runtime/node/ 755', 'cnb/runtime/node/bin/ 755', 'cnb/runtime/node/bin/node 755']);
  await assert.rejects(createBuilder({ config, configName: 'builder.toml', buildImage, launcher: async () => launcher, version: '0.1.0', runtimes: [{ name: '../up', dir: node }], sources }), /runtime name "\.\.\/up" is not a folder name/);
});

test('with a node runtime and cairn\'s bundle, /cnb/lifecycle holds the phase executables; without a runtime, the launcher only', async () => {
  const node = await mkdtemp(join(work, 'node-'));
  await mkdir(join(node, 'bin'));
  await writeFile(join(node, 'bin/node'), 'not really node');
  const bundle = join(work, 'cairn.mjs');
  await writeFile(bundle, '// cairn');
  const toml = '[[buildpacks]]\nuri = "hello"\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n';
  const config = parseBuilderToml(toml, 'builder.toml');
  const sources = () => mkdtemp(join(work, 'w-')).then((workDir) => ({ baseDir: FIXTURES, workDir, openImage: () => Promise.reject(new Error('no images here')) }));
  const base = { config, configName: 'builder.toml', buildImage, launcher: async () => launcher, version: '0.1.0', lifecycleBundle: bundle };
  const withNode = await createBuilder({ ...base, runtimes: [{ name: 'node', dir: node }], sources: await sources() });
  const lifecycle = await entries(withNode.image.layers[buildImage.layers.length + 1]!);
  const phases = ['analyzer', 'builder', 'creator', 'detector', 'exporter', 'restorer'];
  assert.deepEqual(lifecycle.filter((e) => e.path.startsWith('cnb/lifecycle/') && e.path !== 'cnb/lifecycle/').map((e) => `${e.path} ${e.mode.toString(8)}`),
    ['cnb/lifecycle/analyzer 755', 'cnb/lifecycle/builder 755', 'cnb/lifecycle/cairn.mjs 644', 'cnb/lifecycle/creator 755', 'cnb/lifecycle/detector 755', 'cnb/lifecycle/exporter 755', 'cnb/lifecycle/launcher 755', 'cnb/lifecycle/main.mjs 644', 'cnb/lifecycle/restorer 755']);
  const root = await mkdtemp(join(work, 'x-'));
  await extractLayer((await withNode.image.layers[buildImage.layers.length + 1]!.compressed()).pipe(createGunzip()), root);
  for (const p of phases) assert.match(await readFile(join(root, 'cnb/lifecycle', p), 'utf8'), new RegExp(`exec /cnb/runtime/node/bin/node /cnb/lifecycle/main\\.mjs lifecycle ${p} "\\$@"`));
  const without = await createBuilder({ ...base, sources: await sources() });
  const only = await entries(without.image.layers[buildImage.layers.length + 1]!);
  assert.deepEqual(only.filter((e) => e.path.startsWith('cnb/lifecycle/')).map((e) => e.path), ['cnb/lifecycle/', 'cnb/lifecycle/launcher']);
});
