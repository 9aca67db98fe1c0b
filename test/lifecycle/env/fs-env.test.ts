import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Env } from '../../../src/lifecycle/env/env.js';
import { applyBuildLayer, applyLaunchBuildpack, listLayerDirs, MAX_ENV_FILE_BYTES, presentLayerPathDirs, readEnvDir, readPlatformEnv } from '../../../src/lifecycle/env/fs-env.js';
import { BUILD_LAYER_PATHS } from '../../../src/lifecycle/env/layer-paths.js';
import { isCairnError } from '../../../src/oci/errors.js';

async function withTree(files: Record<string, string>, fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'cairn-env-'));
  try {
    for (const [p, contents] of Object.entries(files)) {
      await mkdir(dirname(join(root, p)), { recursive: true });
      if (p.endsWith('/')) await mkdir(join(root, p), { recursive: true });
      else await writeFile(join(root, p), contents);
    }
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('readEnvDir: files in byte order, directories and symlinked directories skipped, missing dir empty', () =>
  withTree({ 'env/b': '2', 'env/A.prepend': '1', 'env/sub/': '', 'other/': '' }, async (root) => {
    await symlink(join(root, 'other'), join(root, 'env', 'link'));
    await symlink(join(root, 'env', 'b'), join(root, 'env', 'c'));
    assert.deepEqual(await readEnvDir(join(root, 'env')), [
      { name: 'A.prepend', contents: '1' },
      { name: 'b', contents: '2' },
      { name: 'c', contents: '2' },
    ]);
    assert.deepEqual(await readEnvDir(join(root, 'none')), []);
  }));

test('readEnvDir: an oversized file is an error naming it', () =>
  withTree({ 'env/BIG': 'x'.repeat(MAX_ENV_FILE_BYTES + 1) }, async (root) => {
    await assert.rejects(readEnvDir(join(root, 'env')), (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && /env\/BIG: larger than/.test((e as Error).message));
  }));

test('build layer: path sub-directories, then env/, then env.build/ (env.launch/ ignored)', () =>
  withTree(
    {
      'l/bin/': '',
      'l/include/': '',
      'l/env/CC.default': 'gcc',
      'l/env/PATH.prepend': '/pre',
      'l/env/PATH.delim': ':',
      'l/env.build/CC.override': 'clang',
      'l/env.launch/ONLY_LAUNCH': 'x',
    },
    async (root) => {
      const layer = join(root, 'l');
      assert.deepEqual([...(await presentLayerPathDirs(layer, BUILD_LAYER_PATHS))].sort(), ['bin', 'include']);
      const env = await applyBuildLayer(Env.from({ PATH: '/usr/bin' }), layer);
      assert.equal(env.get('PATH'), `/pre:${layer}/bin:/usr/bin`);
      assert.equal(env.get('CPATH'), `${layer}/include`);
      assert.equal(env.get('CC'), 'clang');
      assert.ok(!env.has('ONLY_LAUNCH'));
    },
  ));

test('launch buildpack: all layer roots first, then each layer env/, env.launch/, env.launch/<type>/', () =>
  withTree(
    {
      'bp/a/bin/': '',
      'bp/a/env/PATH.append': ':/a-append',
      'bp/b/bin/': '',
      'bp/b/lib/': '',
      'bp/b/env.launch/MODE': 'launch',
      'bp/b/env.launch/web/MODE': 'web',
      'bp/b/env.build/BUILD_ONLY': 'x',
      'bp/a.toml': '',
    },
    async (root) => {
      const dirs = await listLayerDirs(join(root, 'bp'));
      assert.deepEqual(dirs, [join(root, 'bp/a'), join(root, 'bp/b')]);
      const web = await applyLaunchBuildpack(Env.from({ PATH: '/usr/bin' }), dirs, 'web');
      assert.equal(web.get('PATH'), `${root}/bp/b/bin:${root}/bp/a/bin:/usr/bin:/a-append`, 'b/bin is prepended before a/env appends');
      assert.equal(web.get('LD_LIBRARY_PATH'), `${root}/bp/b/lib`);
      assert.equal(web.get('MODE'), 'web');
      assert.ok(!web.has('BUILD_ONLY'));
      assert.equal((await applyLaunchBuildpack(Env.empty(), dirs, 'worker')).get('MODE'), 'launch');
      assert.deepEqual(await listLayerDirs(join(root, 'none')), []);
    },
  ));

test('readPlatformEnv reads <platform>/env and <build-config>/env', () =>
  withTree({ 'platform/env/BP_X': 'user', 'cnb/build-config/env/BP_Y.default': 'op' }, async (root) => {
    assert.deepEqual(await readPlatformEnv(join(root, 'platform'), join(root, 'cnb/build-config')), {
      user: [{ name: 'BP_X', contents: 'user' }],
      operator: [{ name: 'BP_Y.default', contents: 'op' }],
    });
    assert.deepEqual(await readPlatformEnv(join(root, 'none'), join(root, 'none')), { user: [], operator: [] });
  }));
