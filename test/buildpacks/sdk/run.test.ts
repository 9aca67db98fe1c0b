/**
 * The SDK's entry points and layers, checked against cairn's lifecycle readers (the buildpacks never
 * import the lifecycle; their output must still be what it accepts): exit codes, the Build Plan,
 * launch.toml, build.toml, store.toml, `<layer>.toml`, env files, exec.d, SBOM file names, and the
 * reuse decision over restored layers.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';
import { Layer } from '../../../src/buildpacks/sdk/layer.js';
import { type Io, runBuild, runDetect } from '../../../src/buildpacks/sdk/run.js';
import { Env } from '../../../src/lifecycle/env/env.js';
import { applyEnvFiles } from '../../../src/lifecycle/env/env-files.js';
import { readEnvDir } from '../../../src/lifecycle/env/fs-env.js';
import { parseBuildPlan } from '../../../src/lifecycle/files/build-plan.js';
import { parseBuildToml } from '../../../src/lifecycle/files/build-toml.js';
import { parseLaunchToml } from '../../../src/lifecycle/files/launch-toml.js';
import { parseLayerToml } from '../../../src/lifecycle/files/layer-toml.js';
import { parseStoreToml } from '../../../src/lifecycle/files/store-toml.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-sdk-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup(name: string): Promise<{ io: Io & { out: string[] }; root: string }> {
  const root = join(dir, name);
  for (const d of ['bp', 'app', 'layers', 'platform/env']) await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'bp', 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "test/sdk"\nversion = "1.2.3"\nname = "SDK Test"\n');
  await writeFile(join(root, 'plan.toml'), '[[entries]]\nname = "node"\n[entries.metadata]\nversion = "16"\n');
  await writeFile(join(root, 'platform', 'env', 'BP_FROM_FILE'), 'file-value');
  const out: string[] = [];
  return {
    root,
    io: {
      out,
      cwd: join(root, 'app'),
      env: {
        CNB_BUILDPACK_DIR: join(root, 'bp'), CNB_PLATFORM_DIR: join(root, 'platform'), CNB_BUILD_PLAN_PATH: join(root, 'build-plan.toml'),
        CNB_LAYERS_DIR: join(root, 'layers'), CNB_BP_PLAN_PATH: join(root, 'plan.toml'), CNB_TARGET_OS: 'linux', CNB_TARGET_ARCH: 'arm64',
        CNB_TARGET_DISTRO_NAME: 'debian', BP_IN_ENV: 'env-value',
      },
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
    },
  };
}

test('detect: 0 with a Build Plan the lifecycle reads, 100 when not applicable, 1 with the message on error', async () => {
  const { io, root } = await setup('detect');
  const code = await runDetect(async (ctx) => {
    assert.equal(ctx.target.arch, 'arm64');
    assert.equal(ctx.target.distroName, 'debian');
    assert.equal(ctx.execEnv, 'production');
    assert.equal(ctx.config('BP_FROM_FILE'), 'file-value');
    assert.equal(ctx.config('BP_IN_ENV'), 'env-value');
    assert.equal(ctx.buildpack.id, 'test/sdk');
    return { pass: true, plan: { provides: [{ name: 'node' }], requires: [{ name: 'node', metadata: { version: '16', launch: true } }], or: [{ provides: [{ name: 'x' }], requires: [{ name: 'x' }] }] } };
  }, io);
  assert.equal(code, 0);
  const plan = parseBuildPlan(await readFile(join(root, 'build-plan.toml'), 'utf8'));
  assert.deepEqual(plan.provides, [{ name: 'node' }]);
  assert.deepEqual(plan.requires, [{ name: 'node', metadata: { launch: true, version: '16' } }]);
  assert.equal(plan.or.length, 1);
  assert.equal(await runDetect(async () => ({ pass: false, reason: 'no package.json' }), io), 100);
  assert.equal(await runDetect(async () => {
    throw new BuildpackError('broken input', { hint: 'fix it' });
  }, io), 1);
  assert.match(io.out.join(''), /ERROR: broken input\nHINT: fix it/);
  assert.equal(await runDetect(async () => ({ pass: true }), { ...io, env: {} }), 1, 'outside a lifecycle');
  assert.match(io.out.join(''), /CNB_BUILDPACK_DIR is not set/);
});

test('build: layers, env files, exec.d, SBOM and launch/build/store files the lifecycle accepts', async () => {
  const { io, root } = await setup('build');
  const layers = join(root, 'layers');
  const code = await runBuild(async (ctx) => {
    assert.deepEqual(ctx.plan, [{ name: 'node', metadata: { version: '16' } }]);
    const l = await ctx.layer('tool', { types: { launch: true, build: true, cache: true }, key: 'k1', metadata: { version: '1.0' } });
    assert.equal(l.reused, false);
    await l.override('TOOL_HOME', l.path);
    await l.default('MODE', 'production', { scope: 'launch' });
    await l.prepend('PATH', '/opt/x', ':', { scope: 'build' });
    await l.append('LIST', 'b', ',', { scope: 'launch', process: 'web' });
    await l.execD('0-hello', '#!/bin/sh\necho hi\n');
    await l.sbom('cdx', '{"bomFormat":"CycloneDX"}');
    return {
      processes: [{ type: 'web', command: ['node', 'a.js'], args: ['x'], default: true, workingDir: '/workspace/sub' }],
      labels: [{ key: 'org.example', value: 'yes' }],
      slices: [{ paths: ['public/*'] }],
      unmet: ['node'],
      store: { seen: 1 },
    };
  }, io);
  assert.equal(code, 0, io.out.join(''));
  const lt = parseLayerToml(await readFile(join(layers, 'tool.toml'), 'utf8'));
  assert.deepEqual(lt.types, { launch: true, build: true, cache: true });
  assert.deepEqual(lt.metadata, { 'cache-key': 'k1', version: '1.0' });
  const launch = parseLaunchToml(await readFile(join(layers, 'launch.toml'), 'utf8'));
  assert.deepEqual(launch.processes, [{ type: 'web', command: ['node', 'a.js'], args: ['x'], default: true, workingDir: '/workspace/sub', execEnv: [] }]);
  assert.deepEqual(launch.labels, [{ key: 'org.example', value: 'yes' }]);
  assert.deepEqual(launch.slices, [{ paths: ['public/*'] }]);
  assert.deepEqual(parseBuildToml(await readFile(join(layers, 'build.toml'), 'utf8')).unmet, ['node']);
  assert.deepEqual(parseStoreToml(await readFile(join(layers, 'store.toml'), 'utf8')).metadata, { seen: 1 });
  // The env files, applied by the lifecycle's own rules.
  const tool = join(layers, 'tool');
  const launchEnv = applyEnvFiles(applyEnvFiles(Env.from({ LIST: 'a' }), await readEnvDir(join(tool, 'env')), 'override'), await readEnvDir(join(tool, 'env.launch')), 'override');
  const webEnv = applyEnvFiles(launchEnv, await readEnvDir(join(tool, 'env.launch', 'web')), 'override');
  assert.equal(webEnv.get('TOOL_HOME'), tool);
  assert.equal(webEnv.get('MODE'), 'production');
  assert.equal(webEnv.get('LIST'), 'a,b');
  const buildEnv = applyEnvFiles(Env.from({ PATH: '/usr/bin' }), await readEnvDir(join(tool, 'env.build')), 'override');
  assert.equal(buildEnv.get('PATH'), '/opt/x:/usr/bin');
  assert.equal((await stat(join(tool, 'exec.d', '0-hello'))).mode & 0o777, 0o755);
  assert.deepEqual((await readdir(layers)).filter((f) => f.includes('.sbom.')), ['tool.sbom.cdx.json']);
});

test('layers: reuse when the restored key matches (folder for build/cache layers, none needed for launch-only)', async () => {
  const layers = join(dir, 'reuse');
  await mkdir(layers, { recursive: true });
  // As the restorer leaves them: metadata without [types]; contents only for cached layers.
  await writeFile(join(layers, 'cached.toml'), '[metadata]\ncache-key = "k"\nv = 1\n');
  await mkdir(join(layers, 'cached', 'bin'), { recursive: true });
  await writeFile(join(layers, 'cached', 'bin', 'tool'), 'x');
  await writeFile(join(layers, 'launchonly.toml'), '[metadata]\ncache-key = "k"\n');
  await writeFile(join(layers, 'nocontents.toml'), '[metadata]\ncache-key = "k"\n');
  await writeFile(join(layers, 'stale.toml'), '[metadata]\ncache-key = "old"\n');
  await mkdir(join(layers, 'stale'));
  await writeFile(join(layers, 'stale', 'junk'), 'x');

  const cached = await Layer.open(layers, 'cached', { types: { build: true, cache: true }, key: 'k', metadata: { w: 2 } });
  assert.equal(cached.reused, true);
  assert.deepEqual(cached.metadata, { 'cache-key': 'k', v: 1, w: 2 });
  assert.equal(await readFile(join(layers, 'cached', 'bin', 'tool'), 'utf8'), 'x', 'contents kept');
  await assert.rejects(cached.override('X', 'y'), /reused layer/);

  const launchOnly = await Layer.open(layers, 'launchonly', { types: { launch: true }, key: 'k' });
  assert.equal(launchOnly.reused, true);
  await assert.rejects(stat(join(layers, 'launchonly')), 'the folder stays absent: the exporter reuses the previous layer');

  const noContents = await Layer.open(layers, 'nocontents', { types: { launch: true, cache: true }, key: 'k' });
  assert.equal(noContents.reused, false, 'a cached layer without its folder is rebuilt');

  const stale = await Layer.open(layers, 'stale', { types: { cache: true }, key: 'new' });
  assert.equal(stale.reused, false);
  assert.deepEqual(await readdir(join(layers, 'stale')), [], 'emptied');

  const fresh = await Layer.open(layers, 'fresh', { types: { launch: true }, key: 'k' });
  assert.equal(fresh.reused, false);
  for (const l of [cached, launchOnly, stale]) await l.commit();
  assert.deepEqual(parseLayerToml(await readFile(join(layers, 'launchonly.toml'), 'utf8')).types, { launch: true, build: false, cache: false }, 'types re-declared');
  await assert.rejects(Layer.open(layers, 'launch', { types: {}, key: 'k' }), /invalid layer name/);
  await assert.rejects(Layer.open(layers, 'a.b', { types: {}, key: 'k' }), /invalid layer name/);
});
