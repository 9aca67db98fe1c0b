/**
 * NETWORK + ROOT: `cairn builder create` end to end, on the shipped `base` stack made by `cairn stack create`.
 * Buildpacks come from a folder, a `.cnb` file, a buildpackage image and `urn:cnb:builder:`; the launcher is
 * compiled with the build image's gcc. `builder inspect` reads back the buildpacks, order, run image and
 * mirrors and lifecycle APIs; `cairn build` with the builder makes an app image that podman runs (the
 * buildpack's launch env applied by the launcher). Semantic builder.toml errors fail naming the culprit,
 * exit non-zero and write nothing.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { runCairn } from '../helpers/cli.js';
import { type Podman, setupPodman } from '../helpers/podman.js';
import { needTool } from '../helpers/tools.js';
import { needDebianMirror } from '../stack/helpers/network.js';

const FIXTURES = fileURLToPath(new URL('../../../test/builder/fixtures/', import.meta.url));
const BASE = fileURLToPath(new URL('../../../stacks/base/', import.meta.url));
let work: string;
let env: Record<string, string>;
let podman: Podman | undefined;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-builder-cli-'));
  env = { CAIRN_HOME: join(work, 'home') };
});
after(async () => {
  await podman?.cleanup();
  await rm(work, { recursive: true, force: true });
});

const cairn = (args: string[], timeoutMs = 300_000) => runCairn(args, { env, cwd: work, timeoutMs });

const BUILDER_TOML = `
description = "cairn test builder"

[[buildpacks]]
uri = "docker://example/meta-pkg:1.0.0"

[[buildpacks]]
uri = "world.cnb"

[[buildpacks]]
uri = "urn:cnb:builder:example/hello@1.0.0"

[[order]]
group = [ { id = "example/meta" } ]

[[order]]
group = [ { id = "example/hello" }, { id = "example/world", optional = true } ]

[build]
image = "cairn/build:bookworm"
[[build.env]]
name = "BUILT_WITH"
value = "cairn"
suffix = "default"

[[run.images]]
image = "cairn/run:base"
mirrors = ["registry.example.com/cairn/run:base"]
`;

test('stack → packages → builder → inspect → build → run', { timeout: 600_000 }, async (t) => {
  if (!needTool(t, 'bwrap', 'podman')) return;
  if (process.getuid?.() !== 0) {
    t.skip('composing the build image runs dpkg --configure in bwrap, which needs root');
    return;
  }
  if (!(await needDebianMirror(t))) return;
  await cp(FIXTURES, join(work, 'bps'), { recursive: true });
  await cp(BASE, join(work, 'base'), { recursive: true });
  const stack = await cairn(['stack', 'create', '--config', 'base/stack.toml', '--build-image', 'cairn/build:bookworm', '--run-image', 'cairn/run:base']);
  assert.equal(stack.code, 0, stack.stderr);

  await writeFile(join(work, 'bps', 'meta-pkg.toml'), 'buildpack = { uri = "meta" }\ndependencies = [ { uri = "hello" }, { uri = "../world.cnb" } ]\n');
  for (const args of [['buildpack', 'package', 'world.cnb', '--config', 'bps/world-pkg.toml'], ['buildpack', 'package', 'example/meta-pkg:1.0.0', '--config', 'bps/meta-pkg.toml']]) {
    if (args[2] === 'world.cnb') await writeFile(join(work, 'bps', 'world-pkg.toml'), 'buildpack = { uri = "world" }\n');
    const r = await cairn(args);
    assert.equal(r.code, 0, r.stderr);
  }

  await writeFile(join(work, 'builder.toml'), BUILDER_TOML);
  const t0 = performance.now();
  const created = await cairn(['builder', 'create', 'cairn/builder:test', '--config', 'builder.toml', '--json']);
  assert.equal(created.code, 0, created.stderr);
  t.diagnostic(`builder create (launcher compiled in the build image) ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  const again = await cairn(['builder', 'create', 'cairn/builder:again', '--config', 'builder.toml', '--json']);
  t.diagnostic(`builder create again (launcher cached) ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  assert.equal(JSON.parse(again.stdout).digest, JSON.parse(created.stdout).digest, 'the same inputs give the same builder');
  // The launcher compiled anew from the same build image is the same binary: the builder digest does not move.
  await rm(join(work, 'home', 'launcher'), { recursive: true });
  await rm(join(work, 'home', 'rootfs'), { recursive: true });
  const recompiled = await cairn(['builder', 'create', 'cairn/builder:recompiled', '--config', 'builder.toml', '--json']);
  assert.equal(recompiled.code, 0, recompiled.stderr);
  assert.equal(JSON.parse(recompiled.stdout).digest, JSON.parse(created.stdout).digest, 'the launcher is reproducible');

  const inspect = await cairn(['builder', 'inspect', 'cairn/builder:test', '--json']);
  assert.equal(inspect.code, 0, inspect.stderr);
  const d = JSON.parse(inspect.stdout);
  assert.equal(d.description, 'cairn test builder');
  assert.deepEqual(d.buildpacks.map((b: { id: string; version: string; api: string }) => `${b.id}@${b.version} ${b.api}`).sort(), ['example/hello@1.0.0 0.10', 'example/meta@1.0.0 0.10', 'example/world@2.0.0 0.11']);
  assert.deepEqual(d.order, [
    { group: [{ id: 'example/meta', version: '1.0.0' }] },
    { group: [{ id: 'example/hello', version: '1.0.0' }, { id: 'example/world', version: '2.0.0', optional: true }] },
  ]);
  assert.deepEqual(d.runImages, [{ image: 'cairn/run:base', mirrors: ['registry.example.com/cairn/run:base'] }]);
  assert.deepEqual(d.lifecycle.apis.platform.supported, ['0.13', '0.14', '0.15']);
  assert.deepEqual(d.lifecycle.apis.buildpack.supported, ['0.10', '0.11', '0.12']);
  assert.equal(d.stackId, 'io.buildpacks.stacks.bookworm');
  assert.deepEqual(d.user, { uid: 1000, gid: 1000 });
  const text = await cairn(['builder', 'inspect', 'cairn/builder:test']);
  assert.match(text.stdout, /^ {4}mirror: registry\.example\.com\/cairn\/run:base$/m);
  assert.match(text.stdout, /^ {2}Platform APIs: +0\.13, 0\.14, 0\.15$/m);

  // The builder drives a build; podman runs the result through the launcher compiled in the build image.
  await mkdir(join(work, 'app'));
  await writeFile(join(work, 'app', 'hello.txt'), 'the test app');
  const archive = join(work, 'app.tar');
  const build = await cairn(['build', `docker-archive:${archive}:localhost/cairn-test/app:latest`, '--builder', 'cairn/builder:test', '--path', 'app']);
  assert.equal(build.code, 0, build.stderr + build.stdout);
  assert.match(build.stdout + build.stderr, /example\/meta|example\/hello/);
  podman = await setupPodman();
  podman.podman(['load', '-i', archive]);
  assert.equal(podman.podman(['run', '--rm', '--network', 'none', 'localhost/cairn-test/app:latest']).trim(), 'hello from the test app');
  assert.equal(podman.podman(['run', '--rm', '--network', 'none', '--entrypoint', '/cnb/lifecycle/launcher', 'localhost/cairn-test/app:latest', '--', 'id', '-u']).trim(), '1000');

  // Semantic errors: named, non-zero, nothing written.
  const fails = async (toml: string, message: RegExp) => {
    await writeFile(join(work, 'bad.toml'), toml);
    const r = await cairn(['builder', 'create', 'cairn/builder:bad', '--config', 'bad.toml']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, message);
    const ls = JSON.parse((await cairn(['image', 'ls', '--json'])).stdout) as { reference: string }[];
    assert.ok(!ls.some((i) => i.reference === 'cairn/builder:bad'), 'no builder written');
  };
  const images = '[build]\nimage = "cairn/build:bookworm"\n[[run.images]]\nimage = "cairn/run:base"\n';
  await fails(`[[buildpacks]]\nuri = "bps/missing"\n${images}`, /buildpack bps\/missing|no file or folder|bps\/missing/);
  await fails(`[[buildpacks]]\nuri = "bps/hello"\n[[order]]\ngroup = [ { id = "example/nope" } ]\n${images}`, /order\[0\]\.group\[0\] names buildpack example\/nope, which is not in the builder/);
  await fails(`[[buildpacks]]\nuri = "bps/meta"\n[[order]]\ngroup = [ { id = "example/meta" } ]\n${images}`, /composite buildpack example\/meta@1\.0\.0 .*needs example\/hello@1\.0\.0/);
  await fails('[[buildpacks]]\nuri = "bps/hello"\n[build]\nimage = "cairn/no-such-build"\n[[run.images]]\nimage = "r"\n', /cannot read the build image cairn\/no-such-build/);
});
