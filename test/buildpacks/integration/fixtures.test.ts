/**
 * The other fixture apps, each built through the creator and served under podman:
 * npm without a lockfile (rebuilt from cache too), TypeScript compiled by `build` with devDependencies
 * pruned afterwards, `.nvmrc` only (no package.json), Procfile only (perl; a bash-run worker), and one
 * package of an npm workspaces monorepo (BP_NPM_WORKSPACE).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseLifecycleMetadataLabel } from '../../../src/lifecycle/labels/lifecycle-metadata.js';
import { type Podman, setupPodman } from '../../helpers/podman.js';
import { needTool, whichTool } from '../../helpers/tools.js';
import { allPaths, buildApp, type Built, type Harness, NODE_ENGINE, NODE_START, NPM_INSTALL, processes, PROCFILE, serve, setupHarness } from '../helpers/harness.js';

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

function group(b: Built): string[] {
  return b.detected.group.group.map((g) => g.id);
}

let port = 18_300;

async function answer(b: Built, tag: string): Promise<Record<string, unknown>> {
  const { body } = await serve(podman!, b.image, tag, ++port);
  return JSON.parse(body) as Record<string, unknown>;
}

test('npm without a lockfile: npm install, no lockfile left in the app, rebuilt from cache', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'npm-no-lockfile' });
  t.diagnostic(`cold build ${b.ms} ms`);
  assert.deepEqual(group(b), [NODE_ENGINE, NPM_INSTALL, NODE_START]);
  assert.match(b.output, /Running `npm install --include=dev`/);
  assert.deepEqual(processes(b).map((p) => p.command), [['node', 'server.js']]);
  const paths = await allPaths(b);
  assert.ok(!paths.includes('workspace/package-lock.json'), 'npm install wrote no lockfile into the app');
  assert.ok(paths.some((p) => p.startsWith('layers/cairn_npm-install/launch-modules/project/node_modules/ms/')));
  const top = new Set(paths.filter((p) => p.startsWith('layers/cairn_npm-install/launch-modules/')).map((p) => p.split('/')[3]));
  assert.deepEqual([...top].sort(), ['', 'project'], 'only the project folder at the layer root (no lib/, bin/, env/ of the app)');
  const again = await buildApp(h!, { fixture: 'npm-no-lockfile' });
  assert.match(again.output, /Reusing node_modules/);
  assert.equal(again.image.digest, b.image.digest);
  if (!needTool(t, 'podman')) return;
  const a = await answer(b, 'nolock');
  assert.match(String(a.node), /^v16\./);
  assert.equal(a.day, 86_400_000);
});

test('TypeScript: compiled by the build script, devDependencies pruned from the image', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'typescript' });
  t.diagnostic(`cold build ${b.ms} ms`);
  assert.match(b.output, /Node\.js 20\.\d+\.\d+/);
  assert.match(b.output, /Running `npm run build`/);
  assert.deepEqual(processes(b).map((p) => p.command), [['node', 'dist/server.cjs']]);
  const paths = await allPaths(b);
  assert.ok(paths.includes('workspace/dist/server.cjs'), 'the compiled output is in the app layer');
  const modules = paths.filter((p) => p.startsWith('layers/cairn_npm-install/launch-modules/project/node_modules/'));
  assert.ok(modules.some((p) => p.includes('/node_modules/ms/')));
  const dev = modules.filter((p) => /\/node_modules\/(typescript|@types)\//.test(p));
  assert.deepEqual(dev, [], 'devDependencies in the launch layer');
  if (!needTool(t, 'podman')) return;
  const a = await answer(b, 'typescript');
  assert.match(String(a.node), /^v20\./);
  assert.equal(a.typescriptPresent, false);
  assert.equal(a.hour, 3_600_000);
});

test('.nvmrc only: Node.js from .nvmrc, server.js started directly', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'nvmrc' });
  assert.deepEqual(group(b), [NODE_ENGINE, NODE_START]);
  assert.match(b.output, /Node\.js version requested: 20 \(\.nvmrc\)/);
  assert.deepEqual(processes(b).map((p) => p.command), [['node', 'server.js']]);
  if (!needTool(t, 'podman')) return;
  assert.match(String((await answer(b, 'nvmrc')).node), /^v20\./);
});

test('Procfile only: perl web process run directly, a shell worker through bash', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'procfile' });
  assert.deepEqual(group(b), [PROCFILE]);
  assert.deepEqual(processes(b).map((p) => [p.type, p.command]), [
    ['web', ['perl', 'server.pl']],
    ['worker', ['bash', '-c', 'echo "worker on port ${PORT:-none}"']],
  ]);
  assert.equal(parseLifecycleMetadataLabel(b.image.config.config!.Labels!['io.buildpacks.lifecycle.metadata']!).buildpacks.length, 1);
  if (!needTool(t, 'podman')) return;
  assert.equal((await answer(b, 'procfile')).lang, 'perl');
  const worker = podman!.podman(['run', '--rm', '--network', 'none', '--entrypoint', '/cnb/process/worker', 'localhost/cairn-bp-procfile:latest']);
  assert.equal(worker.trim(), 'worker on port none');
});

test('npm workspaces: one package built, shipped with only what it needs', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const b = await buildApp(h!, { fixture: 'workspaces', env: { BP_NPM_WORKSPACE: 'packages/api', BP_NODE_VERSION: '20' } });
  assert.deepEqual(group(b), [NODE_ENGINE, NPM_INSTALL, NODE_START]);
  assert.match(b.output, /Running `npm ci --include=dev --workspace=packages\/api`/);
  assert.deepEqual(processes(b).map((p) => [p.command, p['working-dir']]), [[['node', 'server.js'], '/workspace/packages/api']]);
  const paths = await allPaths(b);
  assert.ok(paths.includes('workspace/packages/api/server.js'));
  assert.ok(paths.includes('workspace/packages/lib/index.js'), 'a workspace the package depends on is kept');
  assert.equal(paths.filter((p) => p.startsWith('workspace/packages/admin')).length, 0, 'an unrelated workspace is left out');
  const modules = paths.filter((p) => p.startsWith('layers/cairn_npm-install/launch-modules/project/node_modules/'));
  assert.ok(modules.includes('layers/cairn_npm-install/launch-modules/project/node_modules/lib'), 'the workspace link');
  assert.equal(modules.filter((p) => /\/node_modules\/(is-odd|is-number|admin)(\/|$)/.test(p)).length, 0, 'dev and unrelated dependencies left out');
  if (!needTool(t, 'podman')) return;
  const a = await answer(b, 'workspaces');
  assert.equal(a.text, '60000 ms is 1 minute');
  assert.match(String(a.node), /^v20\./);
});

test('a native addon compiled from source by node-gyp against the build-only headers', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'make', 'python3')) return;
  const b = await buildApp(h!, { fixture: 'native-addon' });
  t.diagnostic(`cold build ${b.ms} ms`);
  assert.doesNotMatch(b.output, /gyp (info|http) GET/, 'node-gyp downloaded no headers');
  const paths = await allPaths(b);
  assert.ok(paths.includes('layers/cairn_npm-install/launch-modules/project/node_modules/hello-addon/build/Release/hello.node'));
  assert.equal(paths.filter((p) => p.startsWith('workspace/hello-addon/build/')).length, 0, 'nothing built into the app folder');
  if (!needTool(t, 'podman')) return;
  const a = await answer(b, 'native');
  assert.equal(a.greeting, 'hello, cairn, from C');
  assert.match(String(a.node), /^v20\./);
});
