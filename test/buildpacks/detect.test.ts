/** Each buildpack's detect, in-process over small app folders: pass/fail and the Build Plan written. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { detect as nodeEngine } from '../../src/buildpacks/node-engine/detect.js';
import { detect as nodeStart } from '../../src/buildpacks/node-start/detect.js';
import { detect as npmInstall } from '../../src/buildpacks/npm-install/detect.js';
import { detect as pnpmInstall } from '../../src/buildpacks/pnpm-install/detect.js';
import { detect as procfile } from '../../src/buildpacks/procfile/detect.js';
import type { DetectContext } from '../../src/buildpacks/sdk/context.js';
import { type DetectResult, runDetect } from '../../src/buildpacks/sdk/run.js';
import { detect as yarnInstall } from '../../src/buildpacks/yarn-install/detect.js';
import { parseBuildPlan } from '../../src/lifecycle/files/build-plan.js';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-bp-detect-'));
  await mkdir(join(dir, 'bp'));
  await writeFile(join(dir, 'bp', 'buildpack.toml'), '[buildpack]\nid = "t/t"\nversion = "1.0.0"\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(fn: (ctx: DetectContext) => Promise<DetectResult>, files: Record<string, string>, env: Record<string, string> = {}) {
  const app = join(dir, `app-${++n}`);
  await mkdir(app);
  for (const [f, t] of Object.entries(files)) await writeFile(join(app, f), t);
  const planPath = join(dir, `plan-${n}.toml`);
  await writeFile(planPath, '');
  const code = await runDetect(fn, { cwd: app, env: { CNB_BUILDPACK_DIR: join(dir, 'bp'), CNB_BUILD_PLAN_PATH: planPath, CNB_PLATFORM_DIR: join(dir, 'none'), ...env }, stdout: () => undefined, stderr: () => undefined });
  return { code, plan: parseBuildPlan(await readFile(planPath, 'utf8')) };
}

test('node-engine: always provides node; requires it (with version and source) for a Node.js app', async () => {
  const bare = await run(nodeEngine, {});
  assert.equal(bare.code, 0);
  assert.deepEqual(bare.plan.provides, [{ name: 'node' }]);
  assert.deepEqual(bare.plan.requires, []);
  const app = await run(nodeEngine, { 'package.json': '{"engines":{"node":"^18"}}', '.nvmrc': '20' });
  assert.deepEqual(app.plan.requires, [{ name: 'node', metadata: { build: true, launch: true, version: '^18', 'version-source': 'package.json engines.node' } }]);
  assert.equal((await run(nodeEngine, {}, { BP_NODE_VERSION: '22' })).plan.requires[0]!.metadata['version-source'], 'BP_NODE_VERSION');
  assert.equal((await run(nodeEngine, { 'package.json': '{"engines":{"node":"banana"}}' })).code, 0, 'a bad version fails the build, not detection');
});

test('npm-install: package.json projects, but not yarn or pnpm ones', async () => {
  const ok = await run(npmInstall, { 'package.json': '{}' });
  assert.equal(ok.code, 0);
  assert.deepEqual(ok.plan.provides, [{ name: 'node_modules' }]);
  assert.deepEqual(ok.plan.requires.map((r) => r.name), ['node', 'node_modules']);
  assert.equal((await run(npmInstall, {})).code, 100);
  assert.equal((await run(npmInstall, { 'package.json': '{}', 'yarn.lock': '' })).code, 100);
  assert.equal((await run(npmInstall, { 'package.json': '{}', 'pnpm-lock.yaml': '' })).code, 100);
  assert.equal((await run(npmInstall, { 'package.json': '{"packageManager":"pnpm@9.0.0"}' })).code, 100);
  assert.equal((await run(npmInstall, { 'package.json': '{}', 'yarn.lock': '', 'package-lock.json': '{}' })).code, 0, 'a package-lock.json wins');
  assert.equal((await run(npmInstall, { 'package.json': '{not json' })).code, 1, 'invalid package.json is an error');
});

test('node-start: package.json or a start file; requires node at launch', async () => {
  for (const f of ['package.json', 'server.js', 'index.mjs', 'app.cjs']) {
    const r = await run(nodeStart, { [f]: '{}' });
    assert.equal(r.code, 0, f);
    assert.deepEqual(r.plan.requires, [{ name: 'node', metadata: { launch: true } }]);
  }
  assert.equal((await run(nodeStart, { 'main.py': '' })).code, 100);
});

test('procfile: a Procfile with a process', async () => {
  assert.equal((await run(procfile, { Procfile: 'web: ./run\n' })).code, 0);
  assert.equal((await run(procfile, { Procfile: '# nothing\n' })).code, 100);
  assert.equal((await run(procfile, {})).code, 100);
  assert.equal((await run(procfile, { Procfile: 'this is not a procfile' })).code, 1);
});

test('yarn-install and pnpm-install: their lockfile or packageManager; never the same app as each other or npm-install', async () => {
  const cases: [Record<string, string>, 'npm' | 'yarn' | 'pnpm' | 'none'][] = [
    [{ 'package.json': '{}', 'yarn.lock': '' }, 'yarn'],
    [{ 'package.json': '{}', 'pnpm-lock.yaml': '' }, 'pnpm'],
    [{ 'package.json': '{}', 'yarn.lock': '', 'package-lock.json': '{}' }, 'npm'],
    [{ 'package.json': '{}', 'pnpm-lock.yaml': '', 'npm-shrinkwrap.json': '{}' }, 'npm'],
    [{ 'package.json': '{"packageManager":"yarn@4.1.0"}' }, 'yarn'],
    [{ 'package.json': '{"packageManager":"yarn@4.1.0"}', 'package-lock.json': '{}' }, 'yarn'],
    [{ 'package.json': '{"packageManager":"pnpm@9.1.0"}', 'yarn.lock': '' }, 'pnpm'],
    [{ 'package.json': '{}' }, 'npm'],
    [{ 'yarn.lock': '' }, 'none'],
  ];
  for (const [files, want] of cases) {
    const got = { npm: (await run(npmInstall, files)).code, yarn: (await run(yarnInstall, files)).code, pnpm: (await run(pnpmInstall, files)).code };
    for (const tool of ['npm', 'yarn', 'pnpm'] as const) assert.equal(got[tool], tool === want ? 0 : 100, `${tool} on ${JSON.stringify(files)}`);
  }
  const yarn = await run(yarnInstall, { 'package.json': '{}', 'yarn.lock': '' });
  assert.deepEqual(yarn.plan.provides, [{ name: 'node_modules' }]);
  assert.deepEqual(yarn.plan.requires, [{ name: 'node', metadata: { build: true, launch: true } }, { name: 'node_modules', metadata: {} }]);
  assert.deepEqual((await run(pnpmInstall, { 'package.json': '{}', 'pnpm-lock.yaml': '' })).plan.requires.map((r) => r.name), ['node', 'node_modules']);
  assert.equal((await run(yarnInstall, { 'package.json': '{oops', 'yarn.lock': '' })).code, 1, 'invalid package.json is an error');
});


test('the sh pre-checks of bin/detect never fail an app the full detect passes, and fail the common misses', async () => {
  const { spawnSync } = await import('node:child_process');
  const prechecked = { 'yarn-install': yarnInstall, 'pnpm-install': pnpmInstall, 'npm-install': npmInstall, procfile } as const;
  const apps: Record<string, Record<string, string>> = {
    empty: {},
    'package.json only': { 'package.json': '{"name":"a"}' },
    'packageManager yarn, one line, no newline': { 'package.json': '{"name":"a","packageManager":"yarn@4.1.0"}' },
    'packageManager pnpm, pretty': { 'package.json': '{\n  "name": "a",\n  "packageManager": "pnpm@9.0.0"\n}\n' },
    'packageManager npm': { 'package.json': '{"packageManager":"npm@10.0.0"}' },
    'yarn.lock': { 'package.json': '{}', 'yarn.lock': '' },
    'pnpm-lock.yaml': { 'package.json': '{}', 'pnpm-lock.yaml': '' },
    'yarn.lock beside package-lock.json': { 'package.json': '{}', 'yarn.lock': '', 'package-lock.json': '{}' },
    Procfile: { Procfile: 'web: node x.js\n' },
    'empty Procfile': { Procfile: '' },
  };
  const misses: string[] = [];
  for (const [name, detect] of Object.entries(prechecked)) {
    const precheck = await readFile(new URL(`../../../src/buildpacks/${name}/detect-precheck.sh`, import.meta.url), 'utf8');
    for (const [what, files] of Object.entries(apps)) {
      const full = await run(detect, files);
      const app = join(dir, `app-${n}`);
      const sh = spawnSync('sh', ['-c', `${precheck}\nexit 0`], { cwd: app, encoding: 'utf8' });
      if (full.code === 0) assert.equal(sh.status, 0, `${name} on "${what}": the full detect passes, the pre-check must too (${sh.stdout})`);
      if (sh.status === 100) misses.push(`${name}: ${what}`);
    }
  }
  for (const expected of ['yarn-install: package.json only', 'pnpm-install: package.json only', 'yarn-install: empty', 'npm-install: empty', 'procfile: package.json only']) {
    assert.ok(misses.includes(expected), `the pre-check fails "${expected}" without Node.js`);
  }
  assert.ok(!misses.includes('yarn-install: packageManager yarn, one line, no newline'));
});
