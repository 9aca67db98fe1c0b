/**
 * pack's build flags beyond the basics, over a test builder, and `cairn sbom download`.
 *
 * `--buildpack`: a buildpack of the builder by ID and version, a folder, a .cnb file, a
 * buildpackage image, and `from=builder` placing the builder's order after (or around) the given ones; errors for
 * a version the builder lacks, a folder that is not a buildpack, and from=builder twice. The builder's own order
 * detects test/greeter; the added buildpack, test/hello, is in no builder.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadImage } from '../../src/oci/image.js';
import { openLocalStore } from '../../src/oci/store/local.js';
import { layerMap } from '../../src/platform/layer-map.js';
import { layerPaths } from '../buildpacks/helpers/harness.js';
import { runCairn } from '../helpers/cli.js';
import { startDockerRegistry } from '../helpers/docker-registry.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { needTool } from '../helpers/tools.js';

let base: string;
let storeDir: string;
let app: string;
let hello: string;
let env: Record<string, string>;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-build-bp-'));
  storeDir = join(base, 'store');
  await makeTestBuilder(storeDir, base);
  app = join(base, 'app');
  await mkdir(app);
  await writeFile(join(app, 'greeting.txt'), 'hi');
  hello = join(base, 'hello-bp');
  await mkdir(join(hello, 'bin'), { recursive: true });
  await writeFile(join(hello, 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "test/hello"\nversion = "0.3.0"\nsbom-formats = ["application/vnd.cyclonedx+json"]\n[[targets]]\nos = "linux"\n');
  await writeFile(join(hello, 'bin', 'detect'), '#!/bin/sh\nexit 0\n');
  await writeFile(join(hello, 'bin', 'build'), '#!/bin/sh\nset -e\nmkdir -p "$CNB_LAYERS_DIR/hello"\necho hello > "$CNB_LAYERS_DIR/hello/said"\nprintf \'[types]\\nlaunch = true\\n\' > "$CNB_LAYERS_DIR/hello.toml"\nfor s in hello launch build; do echo "{\\"bomFormat\\":\\"CycloneDX\\",\\"specVersion\\":\\"1.4\\",\\"metadata\\":{\\"component\\":{\\"name\\":\\"$s\\"}}}" > "$CNB_LAYERS_DIR/$s.sbom.cdx.json"; done\nprintf \'[[processes]]\\ntype = "hello"\\ncommand = ["cat", "/layers/test_hello/hello/said"]\\ndefault = true\\n\' > "$CNB_LAYERS_DIR/launch.toml"\n');
  for (const f of ['detect', 'build']) await chmod(join(hello, 'bin', f), 0o755);
  env = { CAIRN_HOME: join(base, 'home') };
});
after(async () => rm(base, { recursive: true, force: true }));

async function build(name: string, buildpacks: string[], extra: string[] = []): Promise<{ code: number; stderr: string; ids: string[]; processes: string[] }> {
  const args = ['build', name, '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:test-run:v1`, '--env', 'GREETER_SEED=1', '--json'];
  for (const b of buildpacks) args.push('--buildpack', b);
  args.push(...extra);
  const r = await runCairn(args, { env, cwd: base });
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, ids: [], processes: [] };
  const out = JSON.parse(r.stdout) as { buildpacks: { id: string; version: string }[]; processes: { type: string }[] };
  return { code: 0, stderr: r.stderr, ids: out.buildpacks.map((b) => `${b.id}@${b.version}`), processes: out.processes.map((p) => p.type) };
}

test('a buildpack of the builder, by ID and by ID@version and urn:cnb:builder:', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  for (const ref of ['test/greeter', 'test/greeter@1.0.0', 'urn:cnb:builder:test/greeter']) {
    const r = await build('by-id', [ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ids, ['test/greeter@1.0.0'], ref);
  }
});

test('a folder, a relative folder, a .cnb file and a buildpackage image, each alone and before from=builder', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const folder = await build('folder', [hello]);
  assert.equal(folder.code, 0, folder.stderr);
  assert.deepEqual(folder.ids, ['test/hello@0.3.0']);
  assert.deepEqual(folder.processes, ['hello']);
  assert.deepEqual((await build('relative', ['./hello-bp'])).ids, ['test/hello@0.3.0']);

  const cnb = join(base, 'hello.cnb');
  const pkg = await runCairn(['buildpack', 'package', cnb, '--path', hello, '--format', 'file'], { env });
  assert.equal(pkg.code, 0, pkg.stderr);
  assert.deepEqual((await build('cnb', [cnb])).ids, ['test/hello@0.3.0']);

  const image = await runCairn(['buildpack', 'package', 'hello-bp:0.3.0', '--path', hello], { env });
  assert.equal(image.code, 0, image.stderr);
  const both = await build('image-then-builder', ['hello-bp:0.3.0', 'from=builder']);
  assert.equal(both.code, 0, both.stderr);
  assert.deepEqual(both.ids, ['test/hello@0.3.0', 'test/greeter@1.0.0']);
  const around = await build('builder-then-folder', ['from=builder', hello]);
  assert.deepEqual(around.ids, ['test/greeter@1.0.0', 'test/hello@0.3.0']);
  assert.deepEqual(await readdir(join(base, 'home', 'builds')), [], 'per-build buildpack folders are removed');
  assert.deepEqual(await readdir(join(base, 'home', 'tmp')), [], 'scratch folders are removed');
});

test('errors: a version the builder lacks, a folder without buildpack.toml, from=builder twice', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const version = await build('bad-version', ['test/greeter@9.9.9']);
  assert.equal(version.code, 1);
  assert.match(version.stderr, /the builder has test\/greeter in version 1\.0\.0, not 9\.9\.9/);
  const notBp = await build('not-bp', [app]);
  assert.notEqual(notBp.code, 0);
  assert.match(notBp.stderr, /buildpack\.toml/);
  const twice = await build('twice', ['from=builder', 'from=builder']);
  assert.notEqual(twice.code, 0);
  assert.match(twice.stderr, /from=builder is given twice/);
});

test('--sbom-output-dir gets the build\'s SBOM files; cairn sbom download gets the image\'s', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const out = join(base, 'sbom-out');
  const r = await build('sbom', [hello], ['--sbom-output-dir', out]);
  assert.equal(r.code, 0, r.stderr);
  const files = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(files, ['build/test_hello/sbom.cdx.json', 'launch/test_hello/hello/sbom.cdx.json', 'launch/test_hello/sbom.cdx.json']);
  assert.match(await readFile(join(out, 'launch/test_hello/hello/sbom.cdx.json'), 'utf8'), /"name":"hello"/);

  const dl = join(base, 'sbom-dl');
  const got = await runCairn(['sbom', 'download', 'sbom', '--output-dir', dl], { env });
  assert.equal(got.code, 0, got.stderr);
  const downloaded = (await readdir(join(dl, 'layers', 'sbom'), { recursive: true })).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(downloaded, ['launch/test_hello/hello/sbom.cdx.json', 'launch/test_hello/sbom.cdx.json'], 'the image holds launch SBOMs only');
  const none = await runCairn(['sbom', 'download', `oci:${storeDir}:test-run:v1`, '--output-dir', dl], { env });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /has no SBOM layer/);
});

test('--cache-image keeps the cache as an image: the second build restores from it, --clear-cache does not read it', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const cacheRef = `oci:${join(base, 'caches')}:greeter-cache`;
  const run = (extra: string[]) => runCairn(['build', 'cached', '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:test-run:v1`, '--cache-image', cacheRef, '--verbose', ...extra], { env });
  const first = await run([]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /greeter: building tool/);
  const second = await run(['--env', 'RUN=2']); // another input: the build runs (a no-op would reuse the image)
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /greeter: tool restored from cache/);
  const cleared = await run(['--clear-cache']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.match(cleared.stderr, /greeter: building tool/);
  const inspect = await runCairn(['image', 'inspect', cacheRef, '--json'], { env });
  assert.match(inspect.stdout, /io\.buildpacks\.lifecycle\.cache\.metadata/);
  const both = await run(['--cache-dir', join(base, 'c')]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--cache-image and --cache-dir both name the build cache/);
});

test('--pull-policy: never needs the local copy, if-not-present pulls once and then works with the registry down, always asks it', async (t) => {
  if (!needTool(t, 'bwrap', 'cc', 'docker-registry')) return;
  const registry = await startDockerRegistry();
  let stopped = false;
  try {
    const flags = ['--insecure-registry', registry.host];
    for (const [from, to] of [['test-builder:latest', 'team/builder:v1'], ['test-run:v1', 'team/run:v1']]) {
      const pushed = await runCairn(['image', 'copy', `oci:${storeDir}:${from}`, `${registry.host}/${to}`, ...flags], { env });
      assert.equal(pushed.code, 0, pushed.stderr);
    }
    const run = (policy: string) => runCairn(['build', 'pulled', '--path', app, '--builder', `${registry.host}/team/builder:v1`, '--run-image', `${registry.host}/team/run:v1`,
      '--env', 'GREETER_SEED=1', '--pull-policy', policy, ...flags], { env });
    const never = await run('never');
    assert.equal(never.code, 1);
    assert.match(never.stderr, /is not in the local store, and --pull-policy is never/);
    const first = await run('if-not-present');
    assert.equal(first.code, 0, first.stderr);
    const ls = await runCairn(['image', 'ls'], { env });
    assert.match(ls.stdout, new RegExp(`${registry.host.replace(/\./g, '\\.')}/team/builder:v1`));
    await registry.stop();
    stopped = true;
    const offline = await run('if-not-present');
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal((await run('never')).code, 0);
    const always = await run('always');
    assert.notEqual(always.code, 0, 'always asks the registry, which is down');
    const bad = await run('sometimes');
    assert.equal(bad.code, 2);
  } finally {
    if (!stopped) await registry.stop();
  }
});

test('project.toml: found in the app, or named by --descriptor: builder, build env, groups with an inline buildpack, exclude and include', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const proj = join(base, 'proj');
  await mkdir(join(proj, 'tmp'), { recursive: true });
  await writeFile(join(proj, 'greeting.txt'), 'from a project');
  await writeFile(join(proj, 'secret.txt'), 'not for the image');
  await writeFile(join(proj, 'tmp', 'scratch.txt'), 'scratch');
  await writeFile(join(proj, 'project.toml'), `[_]
schema-version = "0.2"
id = "example/proj"
[io.buildpacks]
builder = "oci:${storeDir}:test-builder:latest"
exclude = ["secret.txt", "tmp/"]
[[io.buildpacks.build.env]]
name = "GREETER_SEED"
value = "7"
[[io.buildpacks.pre.group]]
uri = "../hello-bp"
[[io.buildpacks.group]]
id = "test/greeter"
[[io.buildpacks.group]]
id = "test/inline"
version = "0.0.1"
[io.buildpacks.group.script]
api = "0.12"
inline = "echo inline ran; [ \\"$GREETER_SEED\\" = 7 ] && echo seed seen"
`);
  const r = await runCairn(['build', 'proj', '--path', proj, '--run-image', `oci:${storeDir}:test-run:v1`, '--verbose'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /detected test\/hello@0\.3\.0, test\/greeter@1\.0\.0, test\/inline@0\.0\.1/);
  assert.match(r.stderr, /inline ran\s+seed seen/);
  const files = await appFiles('proj');
  assert.ok(files.includes('workspace/greeting.txt') && files.includes('workspace/project.toml'));
  assert.ok(!files.some((f) => f.includes('secret.txt') || f.includes('scratch.txt')), files.join(' '));

  // --descriptor wins over the app's project.toml; include keeps only what it names; --buildpack wins over groups.
  const other = join(base, 'other.toml');
  await writeFile(other, `[_]\nschema-version = "0.2"\n[io.buildpacks]\ninclude = ["greeting.txt"]\n`);
  const inc = await runCairn(['build', 'proj-inc', '--path', proj, '--descriptor', other, '--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:test-run:v1`,
    '--buildpack', 'test/greeter', '--json'], { env });
  assert.equal(inc.code, 0, inc.stderr);
  assert.deepEqual(JSON.parse(inc.stdout).buildpacks.map((b: { id: string }) => b.id), ['test/greeter']);
  assert.deepEqual((await appFiles('proj-inc')).filter((f) => !f.endsWith('/')), ['workspace/greeting.txt']);

  await writeFile(other, '[project]\nid = "old"\n');
  const old = await runCairn(['build', 'x', '--path', proj, '--descriptor', other], { env });
  assert.equal(old.code, 2);
  assert.match(old.stderr, /schema 0\.1/);
});

/** Paths in the app layer of `name` in the local store. */
async function appFiles(name: string): Promise<string[]> {
  const store = await openLocalStore(env.CAIRN_HOME!);
  try {
    const image = await loadImage(store, `${name}:latest`);
    const app = layerMap(image).find((l) => l.owner === 'app')!;
    return (await layerPaths(image, app.index)).filter((p) => p.startsWith('workspace/') && p !== 'workspace/');
  } finally {
    await store.close();
  }
}

test('--build-ca-cert: a file with no PEM certificate is refused; a bundle reaches the build as NODE_EXTRA_CA_CERTS and in SSL_CERT_FILE', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const { rootCertificates } = await import('node:tls');
  const der = join(base, 'ca.der');
  await writeFile(der, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
  const refused = await build('ca-der', ['test/greeter'], ['--build-ca-cert', der]);
  assert.equal(refused.code, 2, 'a usage error');
  assert.match(refused.stderr, /--build-ca-cert .*ca\.der holds no PEM certificate[\s\S]*hint: .*openssl x509 -inform der/);

  // A bundle as NODE_EXTRA_CA_CERTS often names: public roots plus a proxy's CA.
  const bundle = join(base, 'bundle.crt');
  const proxyCa = '-----BEGIN CERTIFICATE-----\nMIIBcairnPROXYca\n-----END CERTIFICATE-----';
  await writeFile(bundle, [...rootCertificates.slice(0, 20), proxyCa].join('\n'));
  const counter = join(base, 'ca-bp');
  await mkdir(join(counter, 'bin'), { recursive: true });
  await writeFile(join(counter, 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "test/ca"\nversion = "0.1.0"\n[[targets]]\nos = "linux"\n');
  await writeFile(join(counter, 'bin', 'detect'), '#!/bin/sh\nexit 0\n');
  // The test build image has a shell and little else: lines are counted with its builtins.
  await writeFile(join(counter, 'bin', 'build'), ['#!/bin/sh',
    'count() { n=0; while IFS= read -r l; do case "$l" in *"$1"*) n=$((n+1));; esac; done < "$2"; echo $n; }',
    'echo "node-extra=$(count BEGIN "$NODE_EXTRA_CA_CERTS") proxy=$(count MIIBcairnPROXYca "$NODE_EXTRA_CA_CERTS") bundle-proxy=$(count MIIBcairnPROXYca "$SSL_CERT_FILE")"', ''].join('\n'));
  for (const f of ['detect', 'build']) await chmod(join(counter, 'bin', f), 0o755);
  const built = await runCairn(['build', 'ca-bundle', '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:test-run:v1`,
    '--buildpack', counter, '--build-ca-cert', bundle], { env, cwd: base });
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout + built.stderr, /node-extra=21 proxy=1 bundle-proxy=1/);
});
