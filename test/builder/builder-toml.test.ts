/** builder.toml in pack's format: both image forms, env files, strictness, and errors naming the key. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBuilderToml } from '../../src/builder/builder-toml.js';

const rejects = (text: string, code: string, message: RegExp): void => {
  assert.throws(() => parseBuilderToml(text, 'builder.toml'), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
};

test('the [build]/[[run.images]] form, with order, system, env files and targets', () => {
  const c = parseBuilderToml(`
description = "Example builder"
[[buildpacks]]
uri = "./bp"
[[buildpacks]]
image = "example/bp:1"
id = "example/b"
version = "2.0.0"
[[buildpacks]]
id = "example/c"

[[order]]
group = [ { id = "example/a" }, { id = "example/b", version = "2.0.0", optional = true } ]

[system.pre]
buildpacks = [ { id = "example/pre", version = "1.0.0" } ]

[build]
image = "example/build:1"
[[build.env]]
name = "FOO"
value = "bar"
[[build.env]]
name = "PATH"
value = "/opt/bin"
suffix = "prepend"
delim = ":"

[[run.images]]
image = "example/run:1"
mirrors = ["mirror.example.com/run:1"]
[[run.images]]
image = "example/run-alt:1"

[lifecycle]
version = "0.20.0"

[[targets]]
os = "linux"
arch = "amd64"
`);
  assert.equal(c.description, 'Example builder');
  assert.deepEqual(c.buildpacks, [{ uri: './bp' }, { image: 'example/bp:1', id: 'example/b', version: '2.0.0' }, { id: 'example/c' }]);
  assert.deepEqual(c.order, [{ group: [{ id: 'example/a', optional: false }, { id: 'example/b', version: '2.0.0', optional: true }] }]);
  assert.deepEqual(c.system, { pre: [{ id: 'example/pre', version: '1.0.0', optional: false }], post: [] });
  assert.equal(c.buildImage, 'example/build:1');
  assert.deepEqual(c.runImages, [{ image: 'example/run:1', mirrors: ['mirror.example.com/run:1'] }, { image: 'example/run-alt:1', mirrors: [] }]);
  assert.deepEqual(c.buildEnv, [{ name: 'FOO', value: 'bar' }, { name: 'PATH.prepend', value: '/opt/bin' }, { name: 'PATH.delim', value: ':' }]);
  assert.deepEqual(c.lifecycle, { version: '0.20.0' });
  assert.deepEqual(c.targets, [{ os: 'linux', arch: 'amd64', distros: [] }]);
});

test('the older [stack] form becomes the same images', () => {
  const c = parseBuilderToml(`
[stack]
id = "io.buildpacks.stacks.bookworm"
build-image = "example/build:1"
run-image = "example/run:1"
run-image-mirrors = ["m1/run:1", "m2/run:1"]
`);
  assert.equal(c.stackId, 'io.buildpacks.stacks.bookworm');
  assert.equal(c.buildImage, 'example/build:1');
  assert.deepEqual(c.runImages, [{ image: 'example/run:1', mirrors: ['m1/run:1', 'm2/run:1'] }]);
  // Both forms, agreeing.
  const both = parseBuilderToml('[stack]\nbuild-image = "b"\nrun-image = "r"\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n');
  assert.equal(both.buildImage, 'b');
});

test('unknown keys are errors naming the key, at any depth', () => {
  rejects('descripton = "x"\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n', 'INVALID_ARGUMENT', /unknown key "descripton"/);
  rejects('[build]\nimag = "b"\n[[run.images]]\nimage = "r"\n', 'INVALID_ARGUMENT', /unknown key "build.imag"/);
  rejects('[[buildpacks]]\nuri = "."\nversoin = "1.0.0"\n[build]\nimage = "b"\n', 'INVALID_ARGUMENT', /unknown key "buildpacks\[0\]\.versoin"/);
  rejects('[[order]]\ngroup = [{ id = "a/b", optinal = true }]\n', 'INVALID_ARGUMENT', /unknown key "order\[0\]\.group\[0\]\.optinal"/);
  rejects('[[run.images]]\nimage = "r"\nmirror = ["m"]\n', 'INVALID_ARGUMENT', /unknown key "run\.images\[0\]\.mirror"/);
});

test('bad values and inconsistent images are errors naming the key', () => {
  rejects('[[run.images]]\nimage = "r"\n', 'INVALID_ARGUMENT', /build\.image is required/);
  rejects('[build]\nimage = "b"\n', 'INVALID_ARGUMENT', /run\.images are required/);
  rejects('[build]\nimage = "b"\n[stack]\nbuild-image = "c"\nrun-image = "r"\n', 'INVALID_ARGUMENT', /build\.image \("b"\) and stack\.build-image \("c"\) do not match/);
  rejects('[[buildpacks]]\nuri = "."\nid = "Bad Id!"\n', 'INVALID_ARGUMENT', /buildpacks\[0\]\.id "Bad Id!" is not a valid buildpack id/);
  rejects('[[buildpacks]]\nuri = "."\nversion = "v1"\n', 'INVALID_ARGUMENT', /buildpacks\[0\]\.version "v1" is not a valid buildpack version/);
  rejects('[[buildpacks]]\nname = "nothing to find it by"\n', 'INVALID_ARGUMENT', /buildpacks\[0\]\.uri is required/);
  rejects('[[order]]\ngroup = [{ version = "1.0.0" }]\n', 'INVALID_ARGUMENT', /order\[0\]\.group\[0\]\.id is required/);
  rejects('[[order]]\ngroup = []\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n', 'INVALID_ARGUMENT', /order\[0\]\.group must list at least one buildpack/);
  rejects('[build]\nimage = "b"\nenv = [{ name = "P", value = "x", suffix = "append" }]\n', 'INVALID_ARGUMENT', /build\.env\[0\]\.delim is required with suffix "append"/);
  rejects('[build]\nimage = "b"\nenv = [{ name = "P", value = "x", suffix = "later" }]\n', 'INVALID_ARGUMENT', /suffix "later" is not one of/);
  rejects('[build]\nimage = 3\n', 'INVALID_ARGUMENT', /build\.image must be a string/);
  rejects('[build\nimage = "b"\n', 'INVALID_ARGUMENT', /builder\.toml is not valid TOML/);
  rejects('[[extensions]]\nuri = "."\n[build]\nimage = "b"\n', 'UNSUPPORTED', /image extensions are not supported/);
});
