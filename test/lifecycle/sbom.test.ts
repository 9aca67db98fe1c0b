import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type { LayerTypes } from '../../src/lifecycle/files/layer-toml.js';
import {
  copySbomFiles,
  isSbomFileName,
  launcherSbomDestination,
  lifecycleSbomDestination,
  listSbomFiles,
  planSbomCopies,
  restoreSbomFiles,
  sbomExtension,
  sbomMediaTypeOf,
  sbomRestoreDestination,
} from '../../src/lifecycle/sbom.js';
import { isCairnError } from '../../src/oci/errors.js';

const ALL = ['application/vnd.cyclonedx+json', 'application/spdx+json', 'application/vnd.syft+json'];
const types = (launch: boolean, build: boolean, cache: boolean): LayerTypes => ({ launch, build, cache });

test('media types ↔ extensions (digest §2.9)', () => {
  assert.equal(sbomExtension('application/vnd.cyclonedx+json'), 'cdx.json');
  assert.equal(sbomExtension('application/spdx+json'), 'spdx.json');
  assert.equal(sbomExtension('application/vnd.syft+json'), 'syft.json');
  assert.equal(sbomExtension('Application/SPDX+json; version=2.3'), 'spdx.json', 'parameters and case ignored');
  assert.equal(sbomExtension('application/json'), undefined);
  assert.equal(sbomMediaTypeOf('node.sbom.cdx.json'), 'application/vnd.cyclonedx+json');
  assert.equal(sbomMediaTypeOf('node.sbom.xml'), undefined);
  assert.ok(isSbomFileName('node.sbom.cdx.json') && isSbomFileName('launch.sbom.x.json'));
  assert.ok(!isSbomFileName('node.sbom.json') && !isSbomFileName('node.cdx.json') && !isSbomFileName('node.toml'));
});

test('copy mapping: layer, launch- and build-level SBOMs (digest §2.9 table)', () => {
  const layers = new Map([
    ['node', types(true, false, true)],
    ['deps', types(false, true, false)],
    ['tmp', types(false, false, false)],
  ]);
  const copies = planSbomCopies('example/node', ALL, ['node.sbom.cdx.json', 'deps.sbom.spdx.json', 'launch.sbom.syft.json', 'build.sbom.cdx.json', 'ghost.sbom.cdx.json', 'node.toml', 'tmp.sbom.cdx.json'], layers);
  assert.deepEqual(
    copies.map((c) => [c.source, c.destination]),
    [
      ['example_node/build.sbom.cdx.json', 'sbom/build/example_node/sbom.cdx.json'],
      ['example_node/deps.sbom.spdx.json', 'sbom/build/example_node/deps/sbom.spdx.json'],
      ['example_node/launch.sbom.syft.json', 'sbom/launch/example_node/sbom.syft.json'],
      ['example_node/node.sbom.cdx.json', 'sbom/launch/example_node/node/sbom.cdx.json'],
      ['example_node/node.sbom.cdx.json', 'sbom/cache/example_node/node/sbom.cdx.json'],
      ['example_node/tmp.sbom.cdx.json', 'sbom/build/example_node/tmp/sbom.cdx.json'],
    ],
  );
  assert.deepEqual(planSbomCopies('a', ALL, ['x.y.sbom.cdx.json'], new Map([['x', types(true, false, false)]])).map((c) => c.destination), ['sbom/launch/a/x/sbom.cdx.json'], 'layer = name before the first dot');
});

test('validation: unsupported extension and undeclared media type fail the build', () => {
  const layers = new Map([['node', types(true, false, false)]]);
  assert.throws(() => planSbomCopies('a/b', ALL, ['node.sbom.foo.json'], layers), (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && /a_b\/node\.sbom\.foo\.json: unsupported SBOM format/.test((e as Error).message));
  assert.throws(
    () => planSbomCopies('a/b', ['application/spdx+json'], ['launch.sbom.cdx.json'], layers),
    (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && /application\/vnd\.cyclonedx\+json is not declared by buildpack a\/b/.test((e as Error).message) && /sbom-formats/.test((e as { hint?: string }).hint ?? ''),
  );
  assert.deepEqual(planSbomCopies('a', ['application/vnd.cyclonedx+json; version=1.4'], ['launch.sbom.cdx.json'], layers).length, 1, 'declared types with parameters match');
  assert.deepEqual(planSbomCopies('a', [], ['ghost.sbom.foo.json'], layers), [], 'files of layers without .toml are ignored before validation');
});

test('lifecycle and launcher SBOM destinations', () => {
  assert.equal(launcherSbomDestination('cdx.json'), 'sbom/launch/buildpacksio_lifecycle/launcher/sbom.cdx.json');
  assert.equal(lifecycleSbomDestination('spdx.json'), 'sbom/build/buildpacksio_lifecycle/sbom.spdx.json');
});

test('restore mapping reverses layer SBOMs only', () => {
  assert.deepEqual(sbomRestoreDestination('cache/example_node/node/sbom.cdx.json'), { bpDir: 'example_node', destination: 'example_node/node.sbom.cdx.json' });
  assert.deepEqual(sbomRestoreDestination('launch/a/deps/sbom.syft.json'), { bpDir: 'a', destination: 'a/deps.sbom.syft.json' });
  for (const no of ['build/a/l/sbom.cdx.json', 'launch/a/sbom.cdx.json', 'launch/a/l/x/sbom.cdx.json', 'launch/a/l/sbom.xml', 'cache/../l/sbom.cdx.json', 'launch/a/l/sbom.legacy.json']) {
    assert.equal(sbomRestoreDestination(no), undefined, no);
  }
});

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    if (p.endsWith('/')) await mkdir(join(root, p), { recursive: true });
    else await writeFile(join(root, p), c);
  }
}

test('copy then restore on disk', async () => {
  const layers = await mkdtemp(join(tmpdir(), 'cairn-sbom-'));
  try {
    await tree(layers, { 'example_node/node.sbom.cdx.json': '{"n":1}', 'example_node/launch.sbom.cdx.json': '{"l":1}', 'example_node/node.toml': '', 'example_node/node/': '' });
    assert.deepEqual(await listSbomFiles(join(layers, 'example_node')), ['launch.sbom.cdx.json', 'node.sbom.cdx.json']);
    const copies = planSbomCopies('example/node', ALL, await listSbomFiles(join(layers, 'example_node')), new Map([['node', types(true, false, true)]]));
    await copySbomFiles(layers, copies);
    assert.equal(await readFile(join(layers, 'sbom/cache/example_node/node/sbom.cdx.json'), 'utf8'), '{"n":1}');
    assert.equal(await readFile(join(layers, 'sbom/launch/example_node/sbom.cdx.json'), 'utf8'), '{"l":1}');

    // Next build: the buildpack dir has only restored metadata; another buildpack's SBOM is not restored.
    await rm(join(layers, 'example_node'), { recursive: true });
    await tree(layers, { 'example_node/': '', 'sbom/launch/other/x/sbom.cdx.json': '{}' });
    const written = await restoreSbomFiles(layers, ['example/node']);
    assert.deepEqual(written, ['example_node/node.sbom.cdx.json']);
    assert.equal(await readFile(join(layers, 'example_node/node.sbom.cdx.json'), 'utf8'), '{"n":1}');
    assert.deepEqual((await readdir(layers)).sort(), ['example_node'], '<layers>/sbom is removed');
    assert.deepEqual(await readdir(join(layers, 'example_node')), ['node.sbom.cdx.json'], 'launch-level SBOMs are not restored');
  } finally {
    await rm(layers, { recursive: true, force: true });
  }
});
