import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { MAX_ENV_FILE_BYTES, readEnvDir, readPlatformEnv } from '../../../src/lifecycle/env/fs-env.js';
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

test('readPlatformEnv reads <platform>/env and <build-config>/env', () =>
  withTree({ 'platform/env/BP_X': 'user', 'cnb/build-config/env/BP_Y.default': 'op' }, async (root) => {
    assert.deepEqual(await readPlatformEnv(join(root, 'platform'), join(root, 'cnb/build-config')), {
      user: [{ name: 'BP_X', contents: 'user' }],
      operator: [{ name: 'BP_Y.default', contents: 'op' }],
    });
    assert.deepEqual(await readPlatformEnv(join(root, 'none'), join(root, 'none')), { user: [], operator: [] });
  }));
