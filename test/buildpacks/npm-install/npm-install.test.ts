/**
 * npm-install's pure parts: the node_modules cache key, which scripts run, SBOM components from each
 * lockfile format, npm failures in words, and the project model (workspaces, closure, skeleton).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { modulesKey } from '../../../src/buildpacks/npm-install/cache-key.js';
import { components, lockedPackages } from '../../../src/buildpacks/npm-install/lockfile-sbom.js';
import { npmFailure } from '../../../src/buildpacks/npm-install/npm-errors.js';
import { devPackageFilter, hasDevPackages } from '../../../src/buildpacks/npm-install/prune.js';
import { makeSkeleton, readProject, selectWorkspace, workspaceClosure } from '../../../src/buildpacks/npm-install/project.js';
import { scriptsToRun } from '../../../src/buildpacks/npm-install/scripts.js';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-npm-install-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('cache key: package.json, lockfile, node, npm, arch and workspace each change it', () => {
  const project = { manifests: { '.': '{"name":"a"}' }, lockfile: { name: 'package-lock.json', text: '{}' } };
  const tools = { node: '16.20.2', npm: '8.19.4', arch: 'x64' };
  const k = modulesKey(project, tools, undefined);
  assert.equal(k, modulesKey({ ...project }, { ...tools }, undefined), 'stable');
  const variants = [
    modulesKey({ ...project, manifests: { '.': '{"name":"b"}' } }, tools, undefined),
    modulesKey({ ...project, manifests: { '.': '{"name":"a"}', 'packages/x': '{}' } }, tools, undefined),
    modulesKey({ ...project, lockfile: { name: 'package-lock.json', text: '{ }' } }, tools, undefined),
    modulesKey({ ...project, lockfile: { name: 'npm-shrinkwrap.json', text: '{}' } }, tools, undefined),
    modulesKey({ manifests: project.manifests }, tools, undefined),
    modulesKey(project, { ...tools, node: '16.20.1' }, undefined),
    modulesKey(project, { ...tools, npm: '8.19.3' }, undefined),
    modulesKey(project, { ...tools, arch: 'arm64' }, undefined),
    modulesKey(project, tools, 'packages/api'),
  ];
  assert.equal(new Set([k, ...variants]).size, variants.length + 1);
});

test('scripts: build when present, BP_NODE_RUN_SCRIPTS in order, unknown names refused', () => {
  assert.deepEqual(scriptsToRun({ build: 'tsc', start: 'node .' }, undefined), ['build']);
  assert.deepEqual(scriptsToRun({ start: 'node .' }, undefined), []);
  assert.deepEqual(scriptsToRun({ lint: 'x', compile: 'y' }, 'compile, lint'), ['compile', 'lint']);
  assert.deepEqual(scriptsToRun({ build: 'x' }, ''), [], 'empty setting: none');
  assert.throws(() => scriptsToRun({ build: 'x' }, 'build,bundle'), (e: unknown) => e instanceof BuildpackError && /"bundle", which package\.json does not define/.test(e.message));
});

test('lockfiles: v2/v3 packages (links and root skipped, dev flagged), v1 nested dependencies', () => {
  const v2 = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'app', version: '1.0.0' },
      'node_modules/express': { version: '4.22.3', resolved: 'https://r/express-4.22.3.tgz', integrity: 'sha512-AAAA', license: 'MIT' },
      'node_modules/@types/node': { version: '20.1.0', dev: true, license: 'MIT' },
      'node_modules/debug/node_modules/ms': { version: '2.0.0' },
      'node_modules/lib': { resolved: 'packages/lib', link: true },
      'packages/lib': { version: '1.0.0' },
    },
  };
  const pkgs = lockedPackages(v2);
  assert.deepEqual(pkgs.map((p) => `${p.name}@${p.version}${p.dev ? ' dev' : ''}`), ['express@4.22.3', '@types/node@20.1.0 dev', 'ms@2.0.0']);
  const prod = components(pkgs, { includeDev: false });
  assert.deepEqual(prod.map((c) => c.purl), ['pkg:npm/express@4.22.3', 'pkg:npm/ms@2.0.0']);
  assert.equal(prod[0]!.downloadUrl, 'https://r/express-4.22.3.tgz');
  assert.equal(prod[0]!.hashes![0]!.algorithm, 'SHA-512');
  assert.equal(components(pkgs, { includeDev: true }).length, 3);
  const v1 = { lockfileVersion: 1, dependencies: { a: { version: '1.0.0', dependencies: { b: { version: '2.0.0', dev: true } } }, local: { version: 'file:../local' } } };
  assert.deepEqual(lockedPackages(v1).map((p) => `${p.name}@${p.version}${p.dev ? ' dev' : ''}`), ['a@1.0.0', 'b@2.0.0 dev']);
});

test('prune: needed when the hidden lockfile marks a package dev or devOptional, or cannot be read', () => {
  const installed = (extra: Record<string, unknown>) => ({ lockfileVersion: 3, packages: { 'node_modules/express': { version: '4.22.3' }, ...extra } });
  assert.equal(hasDevPackages(installed({})), false);
  assert.equal(hasDevPackages(installed({ 'node_modules/ms': { version: '2.0.0', optional: true } })), false);
  assert.equal(hasDevPackages(installed({ 'node_modules/typescript': { version: '5.0.0', dev: true } })), true);
  assert.equal(hasDevPackages(installed({ 'node_modules/fsevents': { version: '2.3.0', devOptional: true } })), true);
  assert.equal(hasDevPackages({ lockfileVersion: 1, dependencies: {} }), true, 'no packages: prune');
  assert.equal(hasDevPackages(installed({ 'node_modules/x': null })), true);
});

test('the launch copy leaves out what prune removes: dev packages (nested and scoped too) and the .bin links into them', () => {
  assert.equal(devPackageFilter({ lockfileVersion: 3, packages: { 'node_modules/express': { version: '4.22.3' } } }), undefined, 'nothing dev: a plain copy');
  assert.equal(devPackageFilter({ lockfileVersion: 1, dependencies: {} }), undefined);
  const leaveOut = devPackageFilter({
    lockfileVersion: 3,
    packages: {
      '': { name: 'app' },
      'node_modules/express': { version: '4.22.3' },
      'node_modules/typescript': { version: '5.0.0', dev: true },
      'node_modules/@types/node': { version: '20.0.0', dev: true },
      'node_modules/express/node_modules/debug': { version: '2.6.9', dev: true },
      'node_modules/fsevents': { version: '2.3.0', devOptional: true },
    },
  })!;
  const out = (rel: string, link?: string): boolean => leaveOut(rel, link);
  assert.deepEqual(['node_modules/typescript', 'node_modules/@types/node', 'node_modules/express/node_modules/debug'].map((r) => out(r)), [true, true, true]);
  assert.deepEqual(['node_modules/express', 'node_modules/@types', 'node_modules/fsevents', 'node_modules/.package-lock.json', 'package.json'].map((r) => out(r)), [false, false, false, false, false]);
  assert.equal(out('node_modules/.bin/tsc', '../typescript/bin/tsc'), true);
  assert.equal(out('node_modules/.bin/tsserver', '../typescript/bin/tsserver'), true);
  assert.equal(out('node_modules/.bin/express', '../express/bin/express'), false);
  assert.equal(out('node_modules/express/node_modules/.bin/debug', '../debug/bin/debug.js'), true);
  assert.equal(out('node_modules/some-link', '../typescript'), false, 'only .bin links are judged by their target');
});

test('npm failures in words: out of sync, unreachable registry, missing package, native build, other', () => {
  const sync = npmFailure('npm ci', 1, 'npm ERR! `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync.\nnpm ERR! Missing: ms@2.1.3 from lock file\nnpm ERR! usage…', 'package-lock.json');
  assert.match(sync.message, /package-lock\.json is out of sync with package\.json/);
  assert.equal(sync.output, 'npm ERR! `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync.\nnpm ERR! Missing: ms@2.1.3 from lock file');
  const net = npmFailure('npm ci', 1, 'npm ERR! code ECONNREFUSED\nnpm ERR! request to http://r.example/ms failed, reason: connect ECONNREFUSED', undefined);
  assert.match(net.message, /cannot reach the npm registry \(http:\/\/r\.example\/ms\): ECONNREFUSED/);
  assert.match(npmFailure('npm ci', 1, 'npm ERR! code SELF_SIGNED_CERT_IN_CHAIN', undefined).hint!, /pass your CA certificate into the build/);
  assert.match(npmFailure('npm ci', 1, 'npm ERR! code E404\nnpm ERR! 404 Not Found - GET http://r/nope', undefined).message, /was not found in the registry/);
  assert.match(npmFailure('npm ci', 1, 'gyp ERR! build error\nmake: *** [x] Error 1', undefined).hint!, /python3, make and a C\+\+ compiler/);
  const other = npmFailure('npm ci', 7, 'something odd', undefined);
  assert.equal(other.message, '`npm ci` failed (exit code 7)');
  assert.equal(other.output, 'something odd');
});

test('project: workspaces from globs, BP_NPM_WORKSPACE checked, closure over workspace dependencies, skeleton', async () => {
  const app = join(dir, 'mono');
  const write = async (rel: string, v: unknown) => {
    await mkdir(join(app, rel, '..'), { recursive: true });
    await writeFile(join(app, rel), typeof v === 'string' ? v : JSON.stringify(v));
  };
  await write('package.json', { name: 'mono', workspaces: ['packages/*', 'tools/cli'] });
  await write('package-lock.json', '{}');
  await write('.npmrc', 'x=y');
  await write('packages/api/package.json', { name: 'api', dependencies: { lib: '1.0.0' } });
  await write('packages/lib/package.json', { name: 'lib', optionalDependencies: { util: '*' } });
  await write('packages/util/package.json', { name: 'util' });
  await write('packages/admin/package.json', { name: 'admin', dependencies: { api: '*' } });
  await write('packages/notes/README.md', 'not a package');
  await write('tools/cli/package.json', { name: 'cli' });
  await mkdir(join(app, 'node_modules', 'x'), { recursive: true });
  const p = (await readProject(app))!;
  assert.deepEqual(p.workspaces, ['packages/admin', 'packages/api', 'packages/lib', 'packages/util', 'tools/cli']);
  assert.equal(p.lockfile?.name, 'package-lock.json');
  assert.equal(p.vendored, true);
  assert.equal(selectWorkspace(p, './packages/api/'), 'packages/api');
  assert.throws(() => selectWorkspace(p, 'packages/nope'), (e: unknown) => e instanceof BuildpackError && /workspaces: packages\/admin, /.test(e.output ?? ''));
  assert.deepEqual([...(await workspaceClosure(p, 'packages/api'))].sort(), ['packages/api', 'packages/lib', 'packages/util']);

  const skel = join(dir, 'skeleton');
  await makeSkeleton(app, skel, p.workspaces);
  assert.deepEqual((await readdir(skel)).sort(), ['.npmrc', 'package-lock.json', 'package.json', 'packages', 'tools']);
  assert.equal(await readlink(join(skel, 'package.json')), join(app, 'package.json'));
  assert.equal(await readlink(join(skel, 'packages', 'notes')), join(app, 'packages', 'notes'), 'non-workspace folders are links');
  assert.equal(await readlink(join(skel, 'packages', 'api', 'package.json')), join(app, 'packages', 'api', 'package.json'));
  assert.ok(!(await readdir(skel)).includes('node_modules'));
});
