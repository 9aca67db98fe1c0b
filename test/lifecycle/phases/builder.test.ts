import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, chown, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LifecycleError } from '../../../src/lifecycle/exit-codes.js';
import { parseBuildMetadataToml } from '../../../src/lifecycle/files/build-metadata-toml.js';
import { parseBuildpackPlan } from '../../../src/lifecycle/files/buildpack-plan.js';
import type { GroupToml } from '../../../src/lifecycle/files/group-toml.js';
import { readBuildResult, runBuilder } from '../../../src/lifecycle/phases/builder.js';
import { runDetector } from '../../../src/lifecycle/phases/detector.js';
import { identityDirs } from '../../../src/lifecycle/phases/dirs.js';
import { createHostExecutor } from '../../../src/lifecycle/sandbox/host-executor.js';
import { needTool } from '../../helpers/tools.js';
import { FIXTURE_BUILDPACKS, JS_ORDER, makeWork, order, readEnvDump, setUserEnv, type Work } from './builder-fixtures.js';

async function withWork(t: TestContext, fn: (w: Work) => Promise<void>): Promise<void> {
  if (!needTool(t, 'bwrap')) return;
  const w = await makeWork();
  try {
    await fn(w);
  } finally {
    await w.cleanup();
  }
}

const groupOf = (...ids: string[]): GroupToml => ({
  group: ids.map((id) => ({ id, version: '1.0.0', api: '0.12' })),
  groupExtensions: [],
});

test('builds the detected group: layers, env between buildpacks, plans, SBOMs, metadata.toml', async (t) => {
  await withWork(t, async (w) => {
    const detected = await runDetector({ ...w.input, order: JS_ORDER });
    const out = await runBuilder({ ...w.input, group: detected.group, plan: detected.plan });
    const L = w.dirs.host.layers;
    const file = (...p: string[]) => readFile(join(L, ...p), 'utf8');

    // Layers on disk: all-false layer renamed, others kept.
    assert.deepEqual((await readdir(join(L, 'test_node-engine'))).sort(), [
      'build-tools', 'build-tools.toml', 'build.toml', 'launch.toml', 'node', 'node.sbom.cdx.json', 'node.toml', 'plan-seen.txt', 'scratch.ignore', 'scratch.toml',
    ]);
    assert.equal(await file('test_npm', 'node_modules', 'left-pad.txt'), 'left-pad\n');
    assert.equal(await readFile(join(w.dirs.host.app, 'built-by-web'), 'utf8'), 'built\n', 'the app is writable during build');

    // Buildpack plans: node met by node-engine, cacerts left unmet for web.
    const planOf = async (bp: string) => parseBuildpackPlan(await file(bp, 'plan-seen.txt')).entries.map((e) => e.name);
    assert.deepEqual(await planOf('test_node-engine'), ['node', 'node', 'node', 'cacerts']);
    assert.deepEqual(await planOf('test_npm'), ['node_modules', 'node_modules']);
    assert.deepEqual(await planOf('test_web'), ['cacerts']);

    // npm sees node-engine's build layers (not its launch-only env, not the ignored layer), then the user env.
    const npm = await readEnvDump(join(L, 'test_npm', 'env.txt'));
    const ne = '/layers/test_node-engine';
    assert.equal(npm.PATH, `/user/bin:${ne}/node/bin:${ne}/build-tools/bin:/usr/bin:/bin`);
    assert.equal(npm.LD_LIBRARY_PATH, `${ne}/node/lib`);
    assert.equal(npm.LIBRARY_PATH, `${ne}/node/lib`);
    assert.equal(npm.NODE_HOME, `${ne}/node`);
    assert.equal(npm.NODE_ENV, 'production');
    assert.equal(npm.NODE_VERBOSE, '1');
    assert.equal(npm.GREETING, 'override', 'no suffix overrides (build-tools set a default before)');
    assert.equal(npm.MY_LIST, 'b,a', 'append with a .delim');
    assert.equal(npm.MY_FLAGS, '-y-x', 'prepend without a .delim joins with nothing');
    assert.equal(npm.LAUNCH_VAR, undefined);
    assert.equal(npm.USER_VAR, 'from-user');
    assert.equal(npm.OPERATOR_VAR, 'op');
    assert.equal(npm.SECRET_TOKEN, undefined, 'only the include-list of the lifecycle env passes');
    assert.equal(npm.HOME, '/home/cnb');
    assert.equal(npm.CNB_LAYERS_DIR, '/layers/test_npm');
    assert.equal(npm.CNB_BP_PLAN_PATH, '/tmp/plan.toml');
    assert.equal(npm.CNB_BUILDPACK_DIR, '/cnb/buildpacks/test_npm/1.0.0');
    assert.equal(npm.CNB_PLATFORM_DIR, '/platform');
    assert.equal(npm.CNB_TARGET_DISTRO_NAME, 'testos');
    assert.equal(npm.CNB_EXEC_ENV, undefined, 'Buildpack API 0.11 gets no CNB_EXEC_ENV');
    assert.equal(await file('test_npm', 'tools.txt'), 'node-tool hello\nbuild-tool\n');

    // web (clear-env): build layers yes, user env no, npm's launch-only layer no.
    const web = await readEnvDump(join(L, 'test_web', 'env.txt'));
    assert.equal(web.PATH, `${ne}/node/bin:${ne}/build-tools/bin:/usr/bin:/bin`);
    assert.equal(web.USER_VAR, undefined);
    assert.equal(web.OPERATOR_VAR, 'op');
    assert.equal(web.NPM_ONLY, undefined);
    assert.equal(web.CNB_EXEC_ENV, 'production');

    // SBOMs copied per §2.9.
    const sboms: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      for (const e of await readdir(join(L, rel), { withFileTypes: true })) {
        if (e.isDirectory()) await walk(`${rel}/${e.name}`);
        else sboms.push(`${rel}/${e.name}`);
      }
    };
    await walk('sbom');
    assert.deepEqual(sboms.sort(), [
      'sbom/build/test_web/sbom.cdx.json',
      'sbom/build/test_web/web-cache/sbom.cdx.json',
      'sbom/cache/test_node-engine/node/sbom.cdx.json',
      'sbom/cache/test_npm/node_modules/sbom.cdx.json',
      'sbom/cache/test_web/web-cache/sbom.cdx.json',
      'sbom/launch/test_node-engine/node/sbom.cdx.json',
      'sbom/launch/test_npm/node_modules/sbom.cdx.json',
      'sbom/launch/test_web/sbom.cdx.json',
    ]);
    assert.match(await file('sbom/launch/test_npm/node_modules/sbom.cdx.json'), /left-pad/);

    // metadata.toml and the outcome.
    const md = parseBuildMetadataToml(await file('config', 'metadata.toml'));
    assert.equal(md.buildpackDefaultProcessType, 'web');
    assert.deepEqual(md.buildpacks, detected.group.group);
    assert.deepEqual(
      md.processes.map((p) => [p.type, p.command, p.args, p.buildpackId, p.workingDir, p.execEnv]),
      [
        ['shell', ['bash'], [], 'test/node-engine', undefined, ['*']],
        ['web', ['node-tool', 'serve'], ['--port', '8080'], 'test/web', '/workspace/sub', ['*']],
        ['worker', ['bash', '-c', 'work'], [], 'test/web', undefined, ['*']],
      ],
    );
    assert.deepEqual(md.labels, [
      { key: 'com.example.shared', value: 'from-web' },
      { key: 'com.example.web', value: 'yes' },
    ]);
    assert.deepEqual(md.slices, [{ paths: ['public/*'] }, { paths: ['assets/*'] }]);

    assert.equal(out.defaultProcess, 'web');
    assert.deepEqual(out.processes, md.processes);
    assert.deepEqual(
      out.buildpacks.map((b) => [b.id, b.layers.map((l) => [l.name, l.types, l.hasDir]), b.store]),
      [
        ['test/node-engine', [['build-tools', { launch: false, build: true, cache: false }, true], ['node', { launch: true, build: true, cache: true }, true]], undefined],
        ['test/npm', [['node_modules', { launch: true, build: false, cache: true }, true]], undefined],
        ['test/web', [['web-cache', { launch: false, build: false, cache: true }, true]], { builds: 1 }],
      ],
    );
    assert.deepEqual(out.buildpacks[0]!.layers[1]!.metadata, { version: '20.11.0' });
    assert.deepEqual(await readBuildResult(L), out, 'the outcome can be rebuilt from disk');
  });
});

test('a failing bin/build: exit 51 naming the buildpack, with its output', async (t) => {
  await withWork(t, async (w) => {
    await setUserEnv(w, { BAD: 'fail' });
    const err = await runBuilder({ ...w.input, group: groupOf('test/bad'), plan: { entries: [] } }).then(
      () => assert.fail('build passed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LifecycleError);
    assert.equal(err.exitCode, 51);
    assert.deepEqual(err.buildpack, { id: 'test/bad', version: '1.0.0' });
    assert.match(err.message, /test\/bad@1\.0\.0/);
    assert.match(err.message, /exited with code 7/);
    assert.match(err.message, /compile error: missing semicolon/);
    assert.equal(existsSync(join(w.dirs.host.layers, 'config', 'metadata.toml')), false);
  });
});

test('a bin/build that runs too long is killed: exit 51, timed out', async (t) => {
  await withWork(t, async (w) => {
    await setUserEnv(w, { BAD: 'hang' });
    const started = Date.now();
    await assert.rejects(
      runBuilder({ ...w.input, timeoutMs: 300, group: groupOf('test/bad'), plan: { entries: [] } }),
      (e: unknown) => e instanceof LifecycleError && e.exitCode === 51 && /timed out after 300 ms/.test(e.message),
    );
    assert.ok(Date.now() - started < 10_000);
  });
});

test('invalid buildpack output fails the build with exit 51', async (t) => {
  const cases: [string, RegExp][] = [
    ['toplevel-types', /x\.toml: launch: the launch, build and cache flags belong in the \[types\] table/],
    ['reserved', /"launch" is a reserved layer name/],
    ['sbom-format', /SBOM media type application\/spdx\+json is not declared/],
    ['unmet', /"nope" is not an entry of the buildpack plan/],
    ['symlink', /launch\.toml: is a symbolic link/],
    ['two-defaults', /only one process may have default = true/],
  ];
  await withWork(t, async (w) => {
    for (const [mode, why] of cases) {
      await rm(join(w.dirs.host.layers, 'test_bad'), { recursive: true, force: true });
      await setUserEnv(w, { BAD: mode });
      await assert.rejects(
        runBuilder({ ...w.input, group: groupOf('test/bad'), plan: { entries: [] } }),
        (e: unknown) => e instanceof LifecycleError && e.exitCode === 51 && why.test(e.message),
        mode,
      );
    }
  });
});

test('an unsupported Buildpack API fails the build with exit 12', async (t) => {
  await withWork(t, async (w) => {
    await assert.rejects(
      runBuilder({ ...w.input, group: groupOf('test/old-api'), plan: { entries: [] } }),
      (e: unknown) => e instanceof LifecycleError && e.exitCode === 12,
    );
  });
});

test('bin/build cannot touch other layers, /cnb, the platform or the host, nor make the lifecycle follow links', async (t) => {
  await withWork(t, async (w) => {
    const hostTarget = join(w.host, 'evil');
    await writeFile(join(w.host, 'SECRET'), 'top-secret');
    await setUserEnv(w, { HOST_TARGET: hostTarget, HOST_SECRET_DIR: w.host });
    const detected = await runDetector({ ...w.input, order: order(['test/victim', 'test/hostile', 'test/observer']) });
    const outputs: string[] = [];
    const out = await runBuilder({
      ...w.input,
      group: detected.group,
      plan: detected.plan,
      onOutput: (bp, chunk) => void (bp.id === 'test/hostile' && outputs.push(chunk.toString())),
    });
    const L = w.dirs.host.layers;
    assert.doesNotMatch(outputs.join(''), /WROTE|REMOVED|MOVED/);
    assert.equal(await readFile(join(L, 'test_victim', 'victim', 'file.txt'), 'utf8'), 'original\n');
    assert.equal(await readFile(join(L, 'test_victim', 'victim.toml'), 'utf8'), '[types]\nlaunch = true\n');
    for (const p of [
      join(L, 'test_victim', 'evil'),
      join(L, 'evil'),
      join(L, 'moved'),
      join(w.rootfs, 'cnb', 'evil'),
      join(FIXTURE_BUILDPACKS, 'test_hostile', '1.0.0', 'evil'),
      join(w.dirs.host.platform, 'evil'),
      hostTarget,
      join(L, 'sbom', 'launch', 'test_hostile', 'steal', 'sbom.cdx.json'),
    ]) {
      assert.equal(existsSync(p), false, `${p} was written`);
    }
    assert.doesNotMatch(await readFile(join(L, 'group.toml'), 'utf8'), /pwned/);
    const observed = await readEnvDump(join(L, 'test_observer', 'env.txt'));
    assert.equal(observed.SECRET, undefined, 'a linked env.build was followed on the host');
    assert.match(observed.PATH!, /^\/user\/bin:/);
    // A layer folder that is a link to a host folder is not a layer folder (the exporter must not pack the host).
    assert.deepEqual(
      out.buildpacks.find((b) => b.id === 'test/hostile')!.layers.map((l) => [l.name, l.hasDir]),
      [['steal', true], ['steal-dir', false]],
    );
  });
});

test('with the host executor (no sandbox), paths are the real ones and buildpack folders belong to the CNB user', async (t) => {
  await withWork(t, async (w) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run buildpacks as uid 1000');
    // The host executor runs in the build image itself: every path is real, and the CNB user must reach them.
    await chmod(w.root, 0o755);
    await chown(w.dirs.host.app, 1000, 1000);
    const input = { ...w.input, dirs: identityDirs(w.dirs.host), executor: createHostExecutor() };
    const detected = await runDetector({ ...input, order: JS_ORDER });
    const out = await runBuilder({ ...input, group: detected.group, plan: detected.plan });
    const L = w.dirs.host.layers;
    assert.equal((await stat(join(L, 'test_npm'))).uid, 1000);
    const npm = await readEnvDump(join(L, 'test_npm', 'env.txt'));
    const ne = join(L, 'test_node-engine');
    assert.equal(npm.PATH, `/user/bin:${ne}/node/bin:${ne}/build-tools/bin:/usr/bin:/bin`);
    assert.equal(npm.CNB_LAYERS_DIR, join(L, 'test_npm'));
    assert.equal(npm.CNB_BUILDPACK_DIR, join(FIXTURE_BUILDPACKS, 'test_npm', '1.0.0'));
    assert.match(npm.CNB_BP_PLAN_PATH!, new RegExp(`^${w.root}/cairn-build-[^/]+/plan\\.toml$`));
    assert.equal(await readFile(join(L, 'test_npm', 'tools.txt'), 'utf8'), 'node-tool hello\nbuild-tool\n');
    assert.equal(out.defaultProcess, 'web');
    assert.deepEqual(await readBuildResult(L), out);
  });
});
