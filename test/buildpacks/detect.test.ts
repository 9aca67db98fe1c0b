/**
 * Each buildpack's detect over small app folders: pass/fail and the Build Plan written. detect.ts runs
 * in-process; detect.sh (all of node-engine's and node-start's, the first step of the others') runs in sh.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CANDIDATES } from '../../src/buildpacks/node-start/start-command.js';
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

/** A buildpack's detect.sh in `sh`, as bin/detect runs it: exit status 99 when it decides nothing. */
async function runSh(name: string, files: Record<string, string>, env: Record<string, string> = {}) {
  const script = await readFile(new URL(`../../../src/buildpacks/${name}/detect.sh`, import.meta.url), 'utf8');
  const app = join(dir, `app-${++n}`);
  await mkdir(app);
  for (const [f, t] of Object.entries(files)) await writeFile(join(app, f), t);
  const planPath = join(dir, `plan-${n}.toml`);
  await writeFile(planPath, '');
  const r = spawnSync('sh', ['-c', `${script}\nexit 99`], { cwd: app, env: { PATH: process.env.PATH!, CNB_BUILD_PLAN_PATH: planPath, CNB_PLATFORM_DIR: join(dir, 'platform'), ...env }, encoding: 'utf8' });
  return { code: r.status, output: r.stdout + r.stderr, plan: parseBuildPlan(await readFile(planPath, 'utf8')) };
}

test('node-engine (sh): always provides node; requires it at build and launch for a Node.js app', async () => {
  const bare = await runSh('node-engine', {});
  assert.equal(bare.code, 0);
  assert.deepEqual(bare.plan.provides, [{ name: 'node' }]);
  assert.deepEqual(bare.plan.requires, []);
  const needs = [{ name: 'node', metadata: { build: true, launch: true } }];
  for (const hint of ['package.json', '.nvmrc', '.node-version']) assert.deepEqual((await runSh('node-engine', { [hint]: '20' })).plan.requires, needs, hint);
  assert.deepEqual((await runSh('node-engine', {}, { BP_NODE_VERSION: '22' })).plan.requires, needs, 'BP_NODE_VERSION in the environment');
  await mkdir(join(dir, 'platform', 'env'), { recursive: true });
  await writeFile(join(dir, 'platform', 'env', 'BP_NODE_VERSION'), '22');
  assert.deepEqual((await runSh('node-engine', {})).plan.requires, needs, 'BP_NODE_VERSION as a platform env file');
  await rm(join(dir, 'platform'), { recursive: true });
  assert.equal((await runSh('node-engine', { 'package.json': '{"engines":{"node":"banana"}}' })).code, 0, 'a bad version fails the build, not detection');
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

test('node-start (sh): package.json or a start file (the build\'s CANDIDATES); requires node at launch', async () => {
  for (const f of ['package.json', ...CANDIDATES]) {
    const r = await runSh('node-start', { [f]: '{}' });
    assert.equal(r.code, 0, f);
    assert.deepEqual(r.plan.requires, [{ name: 'node', metadata: { launch: true } }], f);
    assert.deepEqual(r.plan.provides, [], f);
  }
  const none = await runSh('node-start', { 'main.py': '' });
  assert.equal(none.code, 100);
  assert.match(none.output, /no package\.json and none of server\.js/);
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


test('wherever a detect.sh decides, it decides as its detect.ts does; it decides the common cases', async () => {
  const both = { 'yarn-install': yarnInstall, 'pnpm-install': pnpmInstall, 'npm-install': npmInstall, procfile } as const;
  const apps: Record<string, Record<string, string>> = {
    empty: {},
    'package.json only': { 'package.json': '{"name":"a"}' },
    'packageManager yarn, one line, no newline': { 'package.json': '{"name":"a","packageManager":"yarn@4.1.0"}' },
    'packageManager pnpm, pretty': { 'package.json': '{\n  "name": "a",\n  "packageManager": "pnpm@9.0.0"\n}\n' },
    'packageManager npm': { 'package.json': '{"packageManager":"npm@10.0.0"}' },
    'packageManager yarn beside package-lock.json': { 'package.json': '{"packageManager":"yarn@4.1.0"}', 'package-lock.json': '{}' },
    'yarn.lock': { 'package.json': '{}', 'yarn.lock': '' },
    'pnpm-lock.yaml': { 'package.json': '{}', 'pnpm-lock.yaml': '' },
    'package-lock.json': { 'package.json': '{\n  "name": "a",\n  "scripts": { "start": "node ." }\n}\n', 'package-lock.json': '{}' },
    'npm-shrinkwrap.json': { 'package.json': '{}', 'npm-shrinkwrap.json': '{}' },
    'yarn.lock beside package-lock.json': { 'package.json': '{}', 'yarn.lock': '', 'package-lock.json': '{}' },
    Procfile: { Procfile: 'web: node x.js\n' },
    'empty Procfile': { Procfile: '' },
  };
  const decided: string[] = [];
  for (const [name, detect] of Object.entries(both)) {
    for (const [what, files] of Object.entries(apps)) {
      const full = await run(detect, files);
      const sh = await runSh(name, files);
      if (sh.code === 99) continue;
      decided.push(`${name}: ${what} → ${sh.code}`);
      assert.equal(sh.code, full.code, `${name} on "${what}": detect.sh says ${sh.code}, detect.ts ${full.code} (${sh.output})`);
      if (full.code === 0) assert.deepEqual(sh.plan, full.plan, `${name} on "${what}": the plans differ`);
    }
  }
  for (const expected of ['yarn-install: package.json only → 100', 'pnpm-install: package.json only → 100', 'yarn-install: empty → 100', 'npm-install: empty → 100',
    'procfile: package.json only → 100', 'npm-install: package-lock.json → 0', 'npm-install: npm-shrinkwrap.json → 0', 'npm-install: yarn.lock beside package-lock.json → 0']) {
    assert.ok(decided.includes(expected), `detect.sh decides "${expected}" without Node.js (it decided: ${decided.join('; ')})`);
  }
  assert.ok(!decided.some((d) => d.startsWith('yarn-install: packageManager yarn, one line')));
  assert.ok(!decided.some((d) => d.startsWith('npm-install: packageManager yarn beside package-lock.json')), 'a packageManager key goes to detect.ts');
  // Where they part: a package.json that is not JSON, beside an npm lockfile, passes detect.sh; the build reports it.
  assert.equal((await runSh('npm-install', { 'package.json': '{not json', 'package-lock.json': '{}' })).code, 0);
});
