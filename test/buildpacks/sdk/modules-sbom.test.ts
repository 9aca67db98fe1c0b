/** Installed packages for the SBOM: npm/yarn layouts (nested, scoped) and pnpm's `.pnpm` folder; links skipped. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { installedPackages } from '../../../src/buildpacks/sdk/modules-sbom.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-sdk-modsbom-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pkg(path: string, manifest: Record<string, unknown>): Promise<void> {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'package.json'), JSON.stringify(manifest));
}

test('node_modules trees: nested and scoped packages, pnpm\'s virtual store, links and .bin skipped', async () => {
  const nm = join(dir, 'hoisted', 'node_modules');
  await pkg(join(nm, 'express'), { name: 'express', version: '4.21.2', license: 'MIT' });
  await pkg(join(nm, 'express', 'node_modules', 'debug'), { name: 'debug', version: '2.6.9' });
  await pkg(join(nm, '@types', 'node'), { name: '@types/node', version: '20.0.0', license: 'MIT' });
  await pkg(join(nm, 'broken'), { name: 'broken' });
  await mkdir(join(nm, '.bin'), { recursive: true });
  await symlink('../../elsewhere', join(nm, 'linked'));
  const got = (await installedPackages(nm)).map((c) => [c.name, c.version, c.purl, c.license ?? null]).sort();
  assert.deepEqual(got, [
    ['@types/node', '20.0.0', 'pkg:npm/%40types/node@20.0.0', 'MIT'],
    ['debug', '2.6.9', 'pkg:npm/debug@2.6.9', null],
    ['express', '4.21.2', 'pkg:npm/express@4.21.2', 'MIT'],
  ]);

  const pn = join(dir, 'pnpm', 'node_modules');
  await pkg(join(pn, '.pnpm', 'ms@2.1.3', 'node_modules', 'ms'), { name: 'ms', version: '2.1.3', license: 'MIT' });
  await pkg(join(pn, '.pnpm', '@scope+x@1.0.0', 'node_modules', '@scope', 'x'), { name: '@scope/x', version: '1.0.0' });
  await symlink('.pnpm/ms@2.1.3/node_modules/ms', join(pn, 'ms'));
  await mkdir(dirname(join(pn, '.pnpm', '@scope+x@1.0.0', 'node_modules', 'ms')), { recursive: true });
  await symlink('../../ms@2.1.3/node_modules/ms', join(pn, '.pnpm', '@scope+x@1.0.0', 'node_modules', 'ms'));
  assert.deepEqual((await installedPackages(pn)).map((c) => `${c.name}@${c.version}`).sort(), ['@scope/x@1.0.0', 'ms@2.1.3']);
  assert.deepEqual(await installedPackages(join(dir, 'none')), []);
});
