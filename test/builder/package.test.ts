/**
 * buildpack package at the library level: a composite buildpack with its dependencies → one layer per
 * buildpack and pack's labels; written as a `.cnb` file and to a store, then read back as buildpack
 * sources (the same layers, by diffID) and by skopeo; a composite missing a component is an error.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { loadBuildpackSource, type SourceContext } from '../../src/builder/buildpack-source.js';
import { describeBuildpackage } from '../../src/builder/inspect.js';
import { packageBuildpack } from '../../src/builder/package.js';
import { parsePackageToml } from '../../src/builder/package-toml.js';
import { writeImage } from '../../src/oci/copy.js';
import { loadImage } from '../../src/oci/image.js';
import { listLayer } from '../../src/oci/layer/list.js';
import { createOciArchive } from '../../src/oci/store/archive/oci-archive.js';
import { MemoryStore } from '../../src/oci/store/memory/memory-store.js';
import { validate } from '../../src/oci/validate.js';
import { needTool } from '../helpers/tools.js';

const FIXTURES = fileURLToPath(new URL('../../../test/builder/fixtures/', import.meta.url));
let work: string;
const store = new MemoryStore('packages');

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-package-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function sources(baseDir = FIXTURES): Promise<SourceContext> {
  return { baseDir, workDir: await mkdtemp(join(work, 'w-')), openImage: (ref) => loadImage(store, ref) };
}

const META = 'buildpack = { uri = "meta" }\ndependencies = [ { uri = "hello" }, { uri = "world" } ]\n';

test('a composite buildpack and its dependencies: one layer each, pack\'s labels, as .cnb and as an image', async (t) => {
  const pkg = await packageBuildpack({ config: parsePackageToml(META), configName: 'package.toml', sources: await sources(), defaultArch: 'amd64' });
  await validate(pkg.image);
  assert.equal(pkg.image.layers.length, 3);
  assert.equal(pkg.image.config.created, '1980-01-01T00:00:01Z');
  assert.deepEqual([pkg.image.config.os, pkg.image.config.architecture], ['linux', 'amd64']);
  const labels = pkg.image.config.config!.Labels!;
  assert.deepEqual(JSON.parse(labels['io.buildpacks.buildpackage.metadata']!), { id: 'example/meta', name: 'Meta', version: '1.0.0', stacks: [] });
  const layers = JSON.parse(labels['io.buildpacks.buildpack.layers']!);
  assert.deepEqual(Object.keys(layers), ['example/hello', 'example/meta', 'example/world']);
  assert.deepEqual(layers['example/meta']['1.0.0'].order, [{ group: [{ id: 'example/hello', version: '1.0.0' }, { id: 'example/world', version: '2.0.0', optional: true }] }]);
  for (const l of pkg.image.layers) {
    const paths = (await listLayer(await l.compressed())).map((e) => e.path);
    const held = new Set(paths.map((p) => p.split('/').filter(Boolean)).filter((c) => c.length >= 4).map((c) => c.slice(0, 4).join('/')));
    assert.equal(held.size, 1, `each layer holds one buildpack: ${[...held].join(', ')}`);
  }
  const again = await packageBuildpack({ config: parsePackageToml(META), configName: 'package.toml', sources: await sources(), defaultArch: 'amd64' });
  assert.equal(again.image.digest, pkg.image.digest, 'same buildpacks, same digest');

  // As a .cnb file, read back as a buildpack source.
  const cnb = join(work, 'meta.cnb');
  const archive = await createOciArchive(cnb);
  await writeImage(pkg.image, archive, 'latest');
  await archive.close();
  const fromFile = await loadBuildpackSource(cnb, await sources(work));
  assert.deepEqual(fromFile.entry, { id: 'example/meta', version: '1.0.0' });
  assert.deepEqual(fromFile.modules.map((m) => m.layer.diffID).sort(), pkg.image.layers.map((l) => l.diffID).sort());

  // As an image in a store.
  await writeImage(pkg.image, store, 'example/meta:1.0.0');
  const fromImage = await loadBuildpackSource('example/meta:1.0.0', await sources(work));
  assert.deepEqual(fromImage.modules.map((m) => `${m.info.id}@${m.info.version}`), ['example/hello@1.0.0', 'example/meta@1.0.0', 'example/world@2.0.0']);
  const d = describeBuildpackage(await loadImage(store, 'example/meta:1.0.0'), 'example/meta:1.0.0');
  assert.deepEqual([d.id, d.version, d.buildpacks.length, d.buildpacks[0]!.api], ['example/meta', '1.0.0', 3, '0.10']);

  // Packaging a package: the entry buildpack of a dependency package is found through its layers.
  const repack = await packageBuildpack({ config: parsePackageToml('buildpack = { uri = "meta.cnb" }\n'), configName: 'p.toml', sources: await sources(work), defaultArch: 'amd64' });
  assert.deepEqual(repack.image.layers.map((l) => l.diffID).sort(), pkg.image.layers.map((l) => l.diffID).sort());

  if (!needTool(t, 'skopeo')) return;
  const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${cnb}`], { encoding: 'utf8' }));
  assert.equal(inspected.Digest, pkg.image.digest);
  assert.equal(inspected.Labels['io.buildpacks.buildpackage.metadata'], labels['io.buildpacks.buildpackage.metadata']);
});

test('package errors name the culprit', async () => {
  const rejects = async (toml: string, message: RegExp, baseDir?: string) =>
    assert.rejects(packageBuildpack({ config: parsePackageToml(toml), configName: 'package.toml', sources: await sources(baseDir), defaultArch: 'amd64' }), (e: Error) => {
      assert.match(e.message, message);
      return true;
    });
  await rejects('buildpack = { uri = "meta" }\ndependencies = [ { uri = "hello" } ]\n', /composite buildpack example\/meta@1\.0\.0 needs example\/world@2\.0\.0, which is not in the package/);
  await rejects('buildpack = { uri = "./nowhere" }\n', /buildpack \.\/nowhere: there is no file or folder/);
  await rejects('buildpack = { uri = "urn:cnb:builder:example/hello" }\n', /names a buildpack in a builder/);
  await rejects('buildpack = { uri = "missing/image:1" }\n', /buildpack missing\/image:1:/);
  const bad = await mkdtemp(join(work, 'bad-'));
  await writeFile(join(bad, 'buildpack.toml'), 'api = "0.10"\n[buildpack]\nid = "Not Valid"\nversion = "1.0.0"\n');
  await rejects('buildpack = { uri = "." }\n', /buildpack\.toml: buildpack\.id: may contain only/, bad);
});
