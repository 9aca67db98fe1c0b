/**
 * The buildpacks as a builder carries them: bundled folders (scripts/bundle-buildpacks.mjs), sh wrappers
 * that find a Node.js runtime, and the dependency rule (buildpacks import only their SDK, node: modules,
 * semver and smol-toml).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { parseBuildpackToml } from '../../src/lifecycle/files/buildpack-toml.js';
import { REPO } from './helpers/harness.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-bp-bundle-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SRC = join(REPO, 'src', 'buildpacks');

async function tsFiles(d: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await tsFiles(join(d, e.name))));
    else if (e.name.endsWith('.ts')) out.push(join(d, e.name));
  }
  return out;
}

test('buildpacks import only their SDK, node: modules, semver and smol-toml', async () => {
  const bad: string[] = [];
  for (const f of await tsFiles(SRC)) {
    const text = await readFile(f, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || spec === 'semver' || spec === 'smol-toml') continue;
      const target = resolve(dirname(f), spec);
      const rel = relative(SRC, target);
      const bp = relative(SRC, f).split('/')[0];
      const ok = spec.startsWith('.') && !rel.startsWith('..') && (rel.startsWith('sdk/') || rel.split('/')[0] === bp);
      if (!ok) bad.push(`${relative(REPO, f)}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('bundled folders: buildpack.toml the lifecycle reads, executable sh wrappers, single-file ESM programs', async () => {
  const mod = (await import(pathToFileURL(join(REPO, 'scripts', 'bundle-buildpacks.mjs')).href)) as { bundleBuildpacks(out: string, o?: { versioned?: boolean }): Promise<{ id: string; version: string; dir: string }[]> };
  const flat = await mod.bundleBuildpacks(join(dir, 'flat'));
  assert.deepEqual(flat.map((b) => b.id), ['cairn/node-engine', 'cairn/node-start', 'cairn/npm-install', 'cairn/pnpm-install', 'cairn/procfile', 'cairn/yarn-install']);
  for (const b of flat) {
    assert.equal(b.dir, join(dir, 'flat', b.id.replace('/', '_')));
    const d = parseBuildpackToml(await readFile(join(b.dir, 'buildpack.toml'), 'utf8'));
    assert.equal(d.buildpack.id, b.id);
    const shOnly = ['cairn/node-engine', 'cairn/node-start'].includes(b.id); // detect.sh decides all of their detection
    assert.deepEqual((await readdir(join(b.dir, 'bin'))).sort(), shOnly ? ['build', 'build.mjs', 'detect'] : ['build', 'build.mjs', 'detect', 'detect.mjs']);
    for (const w of ['detect', 'build']) assert.equal((await stat(join(b.dir, 'bin', w))).mode & 0o111, 0o111);
    const program = await readFile(join(b.dir, 'bin', 'build.mjs'), 'utf8');
    assert.doesNotMatch(program, /from ['"](\.|semver|smol-toml)/, 'no imports left besides node: modules');
  }
  const versioned = await mod.bundleBuildpacks(join(dir, 'cnb'), { versioned: true });
  assert.equal(versioned[0]!.dir, join(dir, 'cnb', 'cairn_node-engine', '0.1.0'));
  // Twice the same bytes.
  const again = await mod.bundleBuildpacks(join(dir, 'flat2'));
  assert.equal(await readFile(join(again[0]!.dir, 'bin', 'build.mjs'), 'utf8'), await readFile(join(flat[0]!.dir, 'bin', 'build.mjs'), 'utf8'));

  const wrapper = join(flat[0]!.dir, 'bin', 'build');
  const none = spawnSync('/bin/sh', [wrapper], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /ERROR: this buildpack needs a Node\.js runtime: \/cnb\/runtime\/node\/bin\/node does not exist and there is no node on PATH/);
  const viaEnv = spawnSync('/bin/sh', [wrapper], { env: { PATH: '/nonexistent', CNB_NODE: process.execPath }, encoding: 'utf8' });
  assert.equal(viaEnv.status, 1);
  assert.match(viaEnv.stderr, /CNB_BUILDPACK_DIR is not set/, 'CNB_NODE ran the program');
  // pnpm-install's pre-check: no package.json here, so detection fails (100) before any Node.js is looked for.
  const prechecked = spawnSync('/bin/sh', [join(flat[3]!.dir, 'bin', 'detect')], { cwd: dir, env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  assert.equal(prechecked.status, 100);
  assert.match(prechecked.stdout, /no package\.json/);
});
