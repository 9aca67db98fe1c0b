import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseApiVersion } from '../../../src/lifecycle/api.js';
import { applyOperatorEnv, applyUserEnv, BUILD_ENV_INCLUDE_LIST, initialBuildEnv, withPlatformEnv } from '../../../src/lifecycle/env/build-env.js';
import { buildArgv, buildInputVars, detectArgv, detectInputVars, targetVars, withVars } from '../../../src/lifecycle/env/cnb-inputs.js';
import { Env } from '../../../src/lifecycle/env/env.js';
import { addLayerPaths, BUILD_LAYER_PATHS, layerPathVariables } from '../../../src/lifecycle/env/layer-paths.js';

test('the lifecycle environment is filtered to the include-list and layer path variables', () => {
  const host = Env.from({
    HOME: '/home/cnb',
    HOSTNAME: 'h',
    http_proxy: 'p',
    HTTPS_PROXY: 'P',
    NO_PROXY: 'n',
    CNB_STACK_ID: 's',
    PATH: '/usr/bin',
    LD_LIBRARY_PATH: '/l',
    CPATH: '/c',
    SECRET_TOKEN: 'x',
    CNB_PLATFORM_API: '0.15',
    CNB_REGISTRY_AUTH: '{}',
  });
  const env = initialBuildEnv(host);
  assert.deepEqual(env.names().sort(), ['CNB_STACK_ID', 'CPATH', 'HOME', 'HOSTNAME', 'HTTPS_PROXY', 'LD_LIBRARY_PATH', 'NO_PROXY', 'PATH', 'http_proxy']);
  assert.ok(BUILD_ENV_INCLUDE_LIST.includes('no_proxy'));
  assert.deepEqual(layerPathVariables(BUILD_LAYER_PATHS), ['PATH', 'LD_LIBRARY_PATH', 'LIBRARY_PATH', 'CPATH', 'PKG_CONFIG_PATH']);
});

test('layer paths: reverse group order, reverse-alphabetical within a buildpack (reference ordering)', () => {
  const all = new Set(['bin', 'lib', 'include', 'pkgconfig']);
  let env = Env.from({ PATH: '/usr/bin' });
  for (const layer of ['/layers/a/l1', '/layers/a/l2', '/layers/b/l1']) env = addLayerPaths(env, layer, all, BUILD_LAYER_PATHS);
  assert.equal(env.get('PATH'), '/layers/b/l1/bin:/layers/a/l2/bin:/layers/a/l1/bin:/usr/bin');
  assert.equal(env.get('LD_LIBRARY_PATH'), '/layers/b/l1/lib:/layers/a/l2/lib:/layers/a/l1/lib');
  assert.equal(env.get('LIBRARY_PATH'), env.get('LD_LIBRARY_PATH').replaceAll('LD_', ''));
  assert.equal(env.get('CPATH'), '/layers/b/l1/include:/layers/a/l2/include:/layers/a/l1/include');
  assert.equal(env.get('PKG_CONFIG_PATH'), '/layers/b/l1/pkgconfig:/layers/a/l2/pkgconfig:/layers/a/l1/pkgconfig');
  assert.deepEqual(addLayerPaths(Env.empty(), '/l', new Set(['lib']), BUILD_LAYER_PATHS).toRecord(), { LD_LIBRARY_PATH: '/l/lib', LIBRARY_PATH: '/l/lib' }, 'only present sub-directories');
});

test('user env: layer path variables prepended with ":", others overridden (spec "Provided by the Platform")', () => {
  const env = Env.from({ PATH: '/layers/a/l/bin:/usr/bin', JAVA_OPTS: 'old', LIBRARY_PATH: '' });
  const out = applyUserEnv(env, [
    { name: 'PATH', contents: '/user/bin' },
    { name: 'JAVA_OPTS', contents: '-Xmx1g' },
    { name: 'LIBRARY_PATH', contents: '/user/lib' },
    { name: 'BP_NODE_VERSION', contents: '18' },
    { name: 'FOO.override', contents: 'kept raw' },
    { name: '', contents: 'ignored' },
  ]);
  assert.equal(out.get('PATH'), '/user/bin:/layers/a/l/bin:/usr/bin');
  assert.equal(out.get('JAVA_OPTS'), '-Xmx1g');
  assert.equal(out.get('LIBRARY_PATH'), '/user/lib', 'no separator before an empty value');
  assert.equal(out.get('BP_NODE_VERSION'), '18');
  assert.equal(out.get('FOO.override'), 'kept raw', 'user env file names are variable names as-is (reference)');
});

test('operator env: no suffix = default; applied even with clear-env; user env skipped with clear-env', () => {
  const platform = {
    user: [{ name: 'BP_X', contents: 'user' }],
    operator: [
      { name: 'BP_X', contents: 'operator-default' },
      { name: 'BP_Y', contents: 'operator-default' },
      { name: 'BP_Z.override', contents: 'operator-override' },
    ],
  };
  const base = Env.from({ BP_Z: 'z' });
  assert.deepEqual(withPlatformEnv(base, platform, false).toRecord(), { BP_Z: 'operator-override', BP_X: 'user', BP_Y: 'operator-default' });
  assert.deepEqual(withPlatformEnv(base, platform, true).toRecord(), { BP_Z: 'operator-override', BP_X: 'operator-default', BP_Y: 'operator-default' });
  assert.equal(applyOperatorEnv(Env.from({ A: 'set' }), [{ name: 'A', contents: 'd' }]).get('A'), 'set');
});

const target = { os: 'linux', arch: 'arm64', variant: 'v8', distro: { name: 'ubuntu', version: '22.04' } };

test('target variables: required os/arch, optional ones only when non-empty', () => {
  assert.deepEqual(targetVars(target), [
    ['CNB_TARGET_OS', 'linux'],
    ['CNB_TARGET_ARCH', 'arm64'],
    ['CNB_TARGET_ARCH_VARIANT', 'v8'],
    ['CNB_TARGET_DISTRO_NAME', 'ubuntu'],
    ['CNB_TARGET_DISTRO_VERSION', '22.04'],
  ]);
  assert.deepEqual(targetVars({ os: 'linux', arch: 'amd64', distro: { name: 'debian', version: '' } }), [
    ['CNB_TARGET_OS', 'linux'],
    ['CNB_TARGET_ARCH', 'amd64'],
    ['CNB_TARGET_DISTRO_NAME', 'debian'],
  ]);
});

test('detect inputs (digest §2.2)', () => {
  const i = { api: parseApiVersion('0.12'), moduleDir: '/cnb/buildpacks/a/1.0.0', platformDir: '/platform', buildPlanPath: '/tmp/p/plan.toml', target, execEnv: 'test' };
  const vars = Object.fromEntries(detectInputVars(i));
  assert.deepEqual(vars, {
    CNB_BUILDPACK_DIR: '/cnb/buildpacks/a/1.0.0',
    CNB_PLATFORM_DIR: '/platform',
    CNB_BUILD_PLAN_PATH: '/tmp/p/plan.toml',
    CNB_TARGET_OS: 'linux',
    CNB_TARGET_ARCH: 'arm64',
    CNB_TARGET_ARCH_VARIANT: 'v8',
    CNB_TARGET_DISTRO_NAME: 'ubuntu',
    CNB_TARGET_DISTRO_VERSION: '22.04',
    CNB_EXEC_ENV: 'test',
  });
  assert.ok(!('CNB_EXEC_ENV' in Object.fromEntries(detectInputVars({ ...i, api: parseApiVersion('0.11') }))), 'CNB_EXEC_ENV only for API ≥ 0.12');
  assert.ok(!('CNB_EXEC_ENV' in Object.fromEntries(detectInputVars({ ...i, execEnv: '' }))));
  assert.equal(Object.fromEntries(detectInputVars({ ...i, extension: true })).CNB_EXTENSION_DIR, '/cnb/buildpacks/a/1.0.0');
  assert.deepEqual(detectArgv(i), ['/cnb/buildpacks/a/1.0.0/bin/detect', '/platform', '/tmp/p/plan.toml']);
});

test('build inputs (digest §2.3) override user variables of the same name', () => {
  const i = { api: parseApiVersion('0.10'), moduleDir: '/bp', platformDir: '/platform', layersDir: '/layers/a_b', bpPlanPath: '/tmp/plan.toml', target, execEnv: 'production' };
  const env = withVars(Env.from({ CNB_LAYERS_DIR: 'user-value', HOME: '/home' }), buildInputVars(i));
  assert.equal(env.get('CNB_LAYERS_DIR'), '/layers/a_b');
  assert.equal(env.get('CNB_BP_PLAN_PATH'), '/tmp/plan.toml');
  assert.equal(env.get('CNB_BUILDPACK_DIR'), '/bp');
  assert.equal(env.get('HOME'), '/home');
  assert.ok(!env.has('CNB_EXEC_ENV'), 'API 0.10 gets no CNB_EXEC_ENV');
  assert.deepEqual(buildArgv(i), ['/bp/bin/build', '/layers/a_b', '/platform', '/tmp/plan.toml']);
});
