/**
 * `cairn buildpack package|inspect`, `cairn builder suggest` and builder.toml errors through the CLI
 * (offline): a composite buildpack packaged as a `.cnb` file and as an image in the local store, read back
 * by `buildpack inspect`; bad package.toml / builder.toml fail naming the culprit with a non-zero exit and
 * write nothing; a buildpackage published to a registry (docker-registry on 127.0.0.1) is read back from it.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { runCairn } from '../helpers/cli.js';
import { startDockerRegistry } from '../helpers/docker-registry.js';
import { needTool } from '../helpers/tools.js';

const FIXTURES = fileURLToPath(new URL('../../../test/builder/fixtures/', import.meta.url));
let work: string;
let env: Record<string, string>;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-buildpack-cli-'));
  env = { CAIRN_HOME: join(work, 'home') };
  await cp(FIXTURES, join(work, 'bps'), { recursive: true });
  await writeFile(join(work, 'bps', 'package.toml'), 'buildpack = { uri = "meta" }\ndependencies = [ { uri = "hello" }, { uri = "world" } ]\n');
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const cairn = (args: string[]) => runCairn(args, { env, cwd: work });
const exists = (p: string) => stat(p).then(() => true, () => false);

test('package as .cnb and as an image, then inspect both', async () => {
  const file = await cairn(['buildpack', 'package', 'meta.cnb', '--config', 'bps/package.toml', '--json']);
  assert.equal(file.code, 0, file.stderr);
  const f = JSON.parse(file.stdout);
  assert.equal(f.format, 'file', 'a .cnb reference means --format file');
  assert.deepEqual(f.buildpacks, ['example/meta@1.0.0', 'example/hello@1.0.0', 'example/world@2.0.0']);

  const image = await cairn(['buildpack', 'package', 'example/meta:1.0.0', '--config', 'bps/package.toml', '--format', 'image', '--json']);
  assert.equal(image.code, 0, image.stderr);
  assert.equal(JSON.parse(image.stdout).digest, f.digest, 'the same package, the same digest');

  for (const ref of ['meta.cnb', 'example/meta:1.0.0']) {
    const r = await cairn(['buildpack', 'inspect', ref, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual([d.id, d.version, d.digest], ['example/meta', '1.0.0', f.digest]);
    assert.deepEqual(d.buildpacks.map((b: { id: string; api: string }) => `${b.id} ${b.api}`), ['example/meta 0.10', 'example/hello 0.10', 'example/world 0.11']);
    assert.deepEqual(d.buildpacks[0].order, [{ group: [{ id: 'example/hello', version: '1.0.0' }, { id: 'example/world', version: '2.0.0', optional: true }] }]);
  }
  const text = await cairn(['buildpack', 'inspect', 'meta.cnb']);
  assert.match(text.stdout, /^ID: +example\/meta$/m);
  assert.match(text.stdout, /^ {4}example\/world@2\.0\.0 \(optional\)$/m);
  const folder = await cairn(['buildpack', 'inspect', 'bps/hello']);
  assert.equal(folder.code, 0, folder.stderr);
  assert.match(folder.stdout, /^Homepage: +https:\/\/example\.com\/hello$/m);

  // The packaged image can itself be packaged from (a dependency given as an image).
  await writeFile(join(work, 'bps', 'repackage.toml'), 'buildpack = { uri = "hello" }\ndependencies = [ { image = "example/meta:1.0.0" } ]\n');
  const re = await cairn(['buildpack', 'package', 'oci:out:repackaged', '--config', 'bps/repackage.toml', '--json']);
  assert.equal(re.code, 0, re.stderr);
  assert.deepEqual(JSON.parse(re.stdout).buildpacks.sort(), ['example/hello@1.0.0', 'example/meta@1.0.0', 'example/world@2.0.0']);
});

test('bad package.toml and builder.toml fail naming the culprit and write nothing', async () => {
  const fails = async (args: string[], message: RegExp, output?: string) => {
    const r = await cairn(args);
    assert.notEqual(r.code, 0, `${args.join(' ')}: exit status`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /^hint: /m);
    if (output) assert.equal(await exists(join(work, output)), false, `${output} was not written`);
  };
  await writeFile(join(work, 'bps', 'typo.toml'), 'buildpack = { uri = "hello" }\ndependecies = []\n');
  await fails(['buildpack', 'package', 'typo.cnb', '--config', 'bps/typo.toml'], /typo\.toml: unknown key "dependecies"/, 'typo.cnb');
  await writeFile(join(work, 'bps', 'incomplete.toml'), 'buildpack = { uri = "meta" }\ndependencies = [ { uri = "hello" } ]\n');
  await fails(['buildpack', 'package', 'incomplete.cnb', '--config', 'bps/incomplete.toml'], /composite buildpack example\/meta@1\.0\.0 needs example\/world@2\.0\.0, which is not in the package/, 'incomplete.cnb');
  await writeFile(join(work, 'bps', 'missing.toml'), 'buildpack = { uri = "./not-there" }\n');
  await fails(['buildpack', 'package', 'missing.cnb', '--config', 'bps/missing.toml'], /buildpack \.\/not-there: there is no file or folder/, 'missing.cnb');
  await cp(join(work, 'bps', 'hello'), join(work, 'bps', 'badid'), { recursive: true });
  await writeFile(join(work, 'bps', 'badid', 'buildpack.toml'), 'api = "0.10"\n[buildpack]\nid = "bad id"\nversion = "1.0.0"\n');
  await writeFile(join(work, 'bps', 'badid.toml'), 'buildpack = { uri = "badid" }\n');
  await fails(['buildpack', 'package', 'badid.cnb', '--config', 'bps/badid.toml'], /buildpack\.id: may contain only letters/, 'badid.cnb');
  await fails(['buildpack', 'package', 'x.cnb', '--config', 'bps/package.toml', '--format', 'zip'], /unknown --format "zip"/, 'x.cnb');

  await writeFile(join(work, 'builder.toml'), '[build]\nimage = "cairn/build:bookworm"\n[[run.images]]\nimage = "cairn/run:base"\nmirors = ["x"]\n');
  await fails(['builder', 'create', 'example/builder', '--config', 'builder.toml'], /builder\.toml: unknown key "run\.images\[0\]\.mirors"/);
  await writeFile(join(work, 'builder.toml'), '[[buildpacks]]\nuri = "bps/hello"\n[[order]]\ngroup = [ { id = "Bad Id" } ]\n[build]\nimage = "cairn/build:bookworm"\n[[run.images]]\nimage = "cairn/run:base"\n');
  await fails(['builder', 'create', 'example/builder', '--config', 'builder.toml'], /order\[0\]\.group\[0\]\.id "Bad Id" is not a valid buildpack id/);
  await writeFile(join(work, 'builder.toml'), '[[buildpacks]]\nuri = "bps/hello"\n[[run.images]]\nimage = "cairn/run:base"\n');
  await fails(['builder', 'create', 'example/builder', '--config', 'builder.toml'], /build\.image is required/);
  await fails(['builder', 'inspect', 'oci:out:repackaged'], /is not a builder .*it is a buildpackage/);
  const ls = await cairn(['image', 'ls', '--json']);
  assert.deepEqual(JSON.parse(ls.stdout).map((i: { reference: string }) => i.reference), ['example/meta:1.0.0'], 'no builder in the local store');
});

test('builder suggest lists cairn\'s builder and the well-known public ones', async () => {
  const r = await cairn(['builder', 'suggest']);
  assert.equal(r.code, 0, r.stderr);
  for (const image of ['cairn/builder:bookworm', 'paketobuildpacks/builder-jammy-base', 'heroku/builder:24', 'gcr.io/buildpacks/builder']) {
    assert.match(r.stdout, new RegExp(`${image.replace(/[./]/g, '\\$&')}  `), image);
  }
  const json = JSON.parse((await cairn(['builder', 'suggest', '--json'])).stdout);
  assert.ok(json.every((b: { vendor: string; image: string; description: string }) => b.vendor && b.image && b.description));
});

test('a buildpackage published to a registry (--publish) is read back from it', async (t) => {
  if (!needTool(t, 'docker-registry')) return;
  const registry = await startDockerRegistry();
  try {
    const ref = `${registry.host}/example/meta:1.0.0`;
    const flags = ['--insecure-registry', registry.host];
    const pushed = await cairn(['buildpack', 'package', ref, '--config', 'bps/package.toml', '--publish', ...flags, '--json']);
    assert.equal(pushed.code, 0, pushed.stderr + registry.output());
    const r = await cairn(['buildpack', 'inspect', `docker://${ref}`, ...flags, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([JSON.parse(r.stdout).id, JSON.parse(r.stdout).digest], ['example/meta', JSON.parse(pushed.stdout).digest]);
    // As a dependency of another package, straight from the registry.
    await writeFile(join(work, 'bps', 'from-registry.toml'), `buildpack = { uri = "hello" }\ndependencies = [ { image = "${ref}" } ]\n`);
    const re = await cairn(['buildpack', 'package', 'from-registry.cnb', '--config', 'bps/from-registry.toml', ...flags, '--json']);
    assert.equal(re.code, 0, re.stderr);
    assert.equal(JSON.parse(re.stdout).buildpacks.length, 3);
  } finally {
    await registry.stop();
  }
});
