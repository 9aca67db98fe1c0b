import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LifecycleError } from '../../../src/lifecycle/exit-codes.js';
import { parseGroupToml } from '../../../src/lifecycle/files/group-toml.js';
import { parsePlanToml } from '../../../src/lifecycle/files/plan-toml.js';
import { runDetector } from '../../../src/lifecycle/phases/detector.js';
import { needTool } from '../../helpers/tools.js';
import { FIXTURE_BUILDPACKS, JS_ORDER, makeWork, order, setUserEnv, type Work } from './builder-fixtures.js';


async function withWork(t: TestContext, fn: (w: Work) => Promise<void>): Promise<void> {
  if (!needTool(t, 'bwrap')) return;
  const w = await makeWork();
  try {
    await fn(w);
  } finally {
    await w.cleanup();
  }
}

test('detects the first passing group, resolving [[or]] plans, composites and optional buildpacks', async (t) => {
  await withWork(t, async (w) => {
    const out = await runDetector({ ...w.input, order: JS_ORDER });
    const ids = ['test/node-engine', 'test/npm', 'test/web'];
    assert.deepEqual(out.group.group.map((g) => g.id), ids);
    assert.equal(out.group.group[0]!.homepage, 'https://example.com/node-engine');
    assert.deepEqual(out.group.group.map((g) => g.api), ['0.12', '0.11', '0.12']);
    assert.deepEqual(
      out.attempts.map((a) => [a.result, a.elements.map((e) => `${e.id}:${e.status}`).join(' ')]),
      [
        ['fail', 'test/node-engine:pass test/yarn:fail test/optional-fail:fail test/web:pass'],
        ['pass', 'test/node-engine:pass test/npm:pass test/optional-fail:fail test/web:pass'],
      ],
    );

    // Written on the host side, and equal to what was returned.
    const group = parseGroupToml(await readFile(join(w.dirs.host.layers, 'group.toml'), 'utf8'));
    const plan = parsePlanToml(await readFile(join(w.dirs.host.layers, 'plan.toml'), 'utf8'));
    assert.deepEqual(group, out.group);
    assert.deepEqual(plan, out.plan);

    const entry = (name: string) => plan.entries.find((e) => e.requires[0]!.name === name)!;
    assert.deepEqual(entry('node').providers.map((p) => p.id), ['test/node-engine']);
    assert.equal(entry('node').requires.length, 3);
    assert.deepEqual(entry('node').requires[1]!.metadata, { from: 'npm' }, "npm's [[or]] option was chosen");
    assert.deepEqual(entry('node_modules').providers.map((p) => p.id), ['test/npm']);
    assert.deepEqual(entry('cacerts').providers.map((p) => p.id), ['test/node-engine', 'test/web']);
    assert.equal(plan.entries.some((e) => e.requires[0]!.name === 'yarn-lock'), false);

    // What bin/detect saw (recorded in its requires metadata): spec argv, cwd, env.
    const seen = entry('node').requires[0]!.metadata;
    assert.deepEqual(seen, {
      version: '20',
      argv: '/cnb/buildpacks/test_node-engine/1.0.0/bin/detect /platform /tmp/plan.toml',
      cwd: '/workspace',
      uid: '1000',
      buildpack_dir: '/cnb/buildpacks/test_node-engine/1.0.0',
      platform_dir: '/platform',
      target: 'linux/amd64 testos 1.0',
      exec_env: 'production',
      user_var: 'from-user',
      operator_var: 'op',
    });
    const web = entry('cacerts').requires[0]!.metadata;
    assert.deepEqual(web, { user_var: '', operator_var: 'op' }, 'clear-env hides user env, not operator env');
  });
});

test('no passing group, no errors: exit 20 with each buildpack and its output', async (t) => {
  await withWork(t, async (w) => {
    const err = await runDetector({ ...w.input, order: order(['test/yarn'], [['test/optional-fail', true]]) }).then(
      () => assert.fail('detection passed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LifecycleError);
    assert.equal(err.exitCode, 20);
    assert.match(err.message, /test\/yarn@1\.0\.0 did not detect \(exit 100\)/);
    assert.match(err.message, /test\/optional-fail@1\.0\.0 did not detect \(exit 100\)/);
    assert.match(err.message, /no yarn\.lock/);
    assert.equal(existsSync(join(w.dirs.host.layers, 'group.toml')), false);
  });
});

test('a buildpack erroring in detect: exit 21, its exit code and output in the message', async (t) => {
  await withWork(t, async (w) => {
    await setUserEnv(w, { BAD: 'detect-error' });
    const err = await runDetector({ ...w.input, order: order(['test/yarn'], ['test/bad']) }).then(
      () => assert.fail('detection passed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LifecycleError);
    assert.equal(err.exitCode, 21);
    assert.match(err.message, /test\/bad@1\.0\.0 errored \(exit 3\)/);
    assert.match(err.message, /boom: cannot read app/);
    assert.match(err.message, /test\/yarn@1\.0\.0 did not detect \(exit 100\)/);
  });
});

test('an unsupported Buildpack API fails detection with exit 12', async (t) => {
  await withWork(t, async (w) => {
    await assert.rejects(runDetector({ ...w.input, order: order(['test/old-api']) }), (e: unknown) => e instanceof LifecycleError && e.exitCode === 12);
  });
});

test('image extensions are refused', async (t) => {
  await withWork(t, async (w) => {
    await assert.rejects(
      runDetector({ ...w.input, order: order(['test/yarn']), orderExtensions: order(['test/ext']) }),
      (e: unknown) => e instanceof LifecycleError && e.exitCode === 22,
    );
  });
});

test('bin/detect cannot write the app, platform, /cnb, its own folder, /layers or the host', async (t) => {
  await withWork(t, async (w) => {
    const hostTarget = join(w.host, 'evil');
    await setUserEnv(w, { HOST_TARGET: hostTarget });
    const out = await runDetector({ ...w.input, order: order(['test/hostile']) });
    const run = out.runs.find((r) => r.id === 'test/hostile')!;
    assert.equal(run.status, 'pass');
    assert.doesNotMatch(run.output, /WROTE|REMOVED/);
    for (const p of [
      join(w.dirs.host.app, 'evil'),
      join(w.dirs.host.platform, 'evil'),
      join(w.rootfs, 'cnb', 'evil'),
      join(FIXTURE_BUILDPACKS, 'test_hostile', '1.0.0', 'evil'),
      join(w.rootfs, 'layers', 'evil'),
      join(w.dirs.host.layers, 'evil'),
      hostTarget,
    ]) {
      assert.equal(existsSync(p), false, `${p} was written`);
    }
    assert.equal(await readFile(join(w.dirs.host.app, 'app.txt'), 'utf8'), 'the app\n');
  });
});
