import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildpackDirPath, lookupBuildpack, readBuildpackDir } from '../../../src/lifecycle/files/buildpack-dir.js';
import { effectiveTargets, isComposite, parseBuildpackToml, serializeBuildpackToml } from '../../../src/lifecycle/files/buildpack-toml.js';
import { isCairnError } from '../../../src/oci/errors.js';

// The digest §2.1 example (spec form of exec-env replaced below by both forms).
const FULL = `
api = "0.12"
[buildpack]
id = "example/node"
version = "1.2.3"
name = "Node.js"
homepage = "https://example.com"
description = "Node engine"
keywords = ["node", "js"]
clear-env = true
sbom-formats = ["application/vnd.cyclonedx+json", "application/spdx+json"]
licenses = [ { type = "MIT", uri = "https://example.com/l" } ]
[[buildpack.exec-env]]
name = "production"
[[buildpack.exec-env]]
name = "test"

[[targets]]
os = "linux"
arch = "arm64"
variant = "v8"
distros = [ { name = "ubuntu", version = "22.04" } ]
[[targets]]
os = "linux"
arch = "amd64"

[metadata]
z = 1
[metadata.a]
b = "c"
`;

test('parses the full descriptor', () => {
  const d = parseBuildpackToml(FULL);
  assert.equal(d.api, '0.12');
  assert.equal(d.buildpack.id, 'example/node');
  assert.equal(d.buildpack.version, '1.2.3');
  assert.equal(d.buildpack.name, 'Node.js');
  assert.equal(d.buildpack.clearEnv, true);
  assert.deepEqual(d.buildpack.keywords, ['node', 'js']);
  assert.deepEqual(d.buildpack.sbomFormats, ['application/vnd.cyclonedx+json', 'application/spdx+json']);
  assert.deepEqual(d.buildpack.licenses, [{ type: 'MIT', uri: 'https://example.com/l' }]);
  assert.deepEqual(d.buildpack.execEnv, ['production', 'test'], 'spec form [[buildpack.exec-env]] name');
  assert.deepEqual(d.targets, [
    { os: 'linux', arch: 'arm64', variant: 'v8', distros: [{ name: 'ubuntu', version: '22.04' }] },
    { os: 'linux', arch: 'amd64', variant: '', distros: [] },
  ]);
  assert.deepEqual(d.metadata, { a: { b: 'c' }, z: 1 });
  assert.equal(isComposite(d), false);
});

test('exec-env string-array form and arch-variant key (reference lifecycle, digest §12)', () => {
  const d = parseBuildpackToml(`api = "0.12"
[buildpack]
id = "a"
version = "0.0.1"
exec-env = ["*"]
[[targets]]
os = "linux"
arch = "arm"
arch-variant = "v7"
`);
  assert.deepEqual(d.buildpack.execEnv, ['*']);
  assert.equal(d.targets[0]!.variant, 'v7');
  assert.throws(
    () => parseBuildpackToml('api = "0.12"\n[buildpack]\nid = "a"\nversion = "0.0.1"\n[[targets]]\nvariant = "v7"\narch-variant = "v8"\n'),
    (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && /targets\[0\]\.variant/.test((e as Error).message),
  );
});

test('composite buildpack order', () => {
  const d = parseBuildpackToml(`api = "0.10"
[buildpack]
id = "example/composite"
version = "2.0.0"
[[order]]
group = [ { id = "example/npm", version = "0.1.0", optional = true, exec-env = ["production"] }, { id = "example/node", version = "1.2.3" } ]
[[order]]
[[order.group]]
id = "example/yarn"
version = "0.2.0"
`);
  assert.ok(isComposite(d));
  assert.deepEqual(d.order, [
    {
      group: [
        { id: 'example/npm', version: '0.1.0', optional: true, execEnv: ['production'] },
        { id: 'example/node', version: '1.2.3', optional: false, execEnv: [] },
      ],
    },
    { group: [{ id: 'example/yarn', version: '0.2.0', optional: false, execEnv: [] }] },
  ]);
  assert.deepEqual(parseBuildpackToml(serializeBuildpackToml(d)), d, 'round trip');
});

const bad: [string, string, RegExp][] = [
  ['missing api', '[buildpack]\nid = "a"\nversion = "1.0.0"', /: api: is required/],
  ['bad api', 'api = "v0.12"\n[buildpack]\nid = "a"\nversion = "1.0.0"', /: api: "v0\.12" is not an API version/],
  ['missing [buildpack]', 'api = "0.12"', /: buildpack: the \[buildpack\] table is required/],
  ['reserved id', 'api = "0.12"\n[buildpack]\nid = "sbom"\nversion = "1.0.0"', /buildpack\.id: "sbom" is reserved/],
  ['bad id chars', 'api = "0.12"\n[buildpack]\nid = "a b"\nversion = "1.0.0"', /buildpack\.id: may contain only/],
  ['bad version', 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.0"', /buildpack\.version: "1\.0" must be/],
  ['leading zero', 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.01.0"', /buildpack\.version/],
  ['order without version', 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.0.0"\n[[order]]\ngroup = [{ id = "b" }]', /order\[0\]\.group\[0\]\.version: is required/],
  ['empty group', 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.0.0"\n[[order]]\ngroup = []', /order\[0\]\.group: a composite/],
  ['stacks with order', 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.0.0"\n[[stacks]]\nid = "*"\n[[order]]\ngroup = [{ id = "b", version = "1.0.0" }]', /stacks: must not be given together with \[\[order\]\]/],
  ['exec-env with /', 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.0.0"\nexec-env = ["a/b"]', /buildpack\.exec-env\[0\]: must not contain/],
  ['clear-env not bool', 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.0.0"\nclear-env = "yes"', /buildpack\.clear-env: expected a boolean, got string/],
];
for (const [name, text, re] of bad) {
  test(`rejects buildpack.toml: ${name}`, () => {
    assert.throws(
      () => parseBuildpackToml(text, '/cnb/buildpacks/a/1.0.0/buildpack.toml'),
      (e: unknown) => {
        assert.ok(isCairnError(e, 'INVALID_LIFECYCLE_FILE'), String(e));
        assert.match((e as Error).message, /^invalid \/cnb\/buildpacks\/a\/1\.0\.0\/buildpack\.toml: /);
        assert.match((e as Error).message, re);
        return true;
      },
    );
  });
}

const base = 'api = "0.12"\n[buildpack]\nid = "a"\nversion = "1.0.0"\n';
const any = { os: '', arch: '', variant: '', distros: [] };
for (const [name, extra, bin, want] of [
  ['declared targets win', '[[targets]]\nos = "linux"\narch = "arm64"\n[[stacks]]\nid = "*"\n', ['build'], [{ os: 'linux', arch: 'arm64', variant: '', distros: [] }]],
  ['bionic stack', '[[stacks]]\nid = "io.buildpacks.stacks.bionic"\n', ['build'], [{ os: 'linux', arch: 'amd64', variant: '', distros: [{ name: 'ubuntu', version: '18.04' }] }]],
  ['any stack', '[[stacks]]\nid = "*"\n', [], [any]],
  ['other stack, bin/build', '[[stacks]]\nid = "io.buildpacks.stacks.jammy"\n', ['detect', 'build'], [{ ...any, os: 'linux' }]],
  ['bin/build → linux', '', ['build', 'detect'], [{ ...any, os: 'linux' }]],
  ['bin/build.exe → windows', '', ['build.exe', 'detect.exe'], [{ ...any, os: 'windows' }]],
  ['bin/build.bat → windows', '', ['build.bat'], [{ ...any, os: 'windows' }]],
  ['nothing → any', '', [], [any]],
] as const) {
  test(`effective targets: ${name}`, () => {
    assert.deepEqual(effectiveTargets(parseBuildpackToml(base + extra), bin), want);
  });
}

test('serialisation is deterministic and round-trips', () => {
  const d = parseBuildpackToml(FULL);
  const text = serializeBuildpackToml(d);
  assert.equal(serializeBuildpackToml(parseBuildpackToml(text)), text);
  assert.deepEqual(parseBuildpackToml(text), d);
  assert.match(text, /exec-env = \[ "production", "test" \]/, 'writes the string-array form');
});

test('readBuildpackDir and lookupBuildpack read from <buildpacks>/<escaped-id>/<version>', async () => {
  const root = await mkdtemp(join(tmpdir(), 'cairn-bp-'));
  try {
    const dir = buildpackDirPath(root, 'example/node', '1.2.3');
    assert.equal(dir, join(root, 'example_node', '1.2.3'));
    await mkdir(join(dir, 'bin'), { recursive: true });
    await writeFile(join(dir, 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "example/node"\nversion = "1.2.3"\n');
    await writeFile(join(dir, 'bin', 'build'), '#!/bin/sh\n');
    await chmod(join(dir, 'bin', 'build'), 0o755);
    const bp = await readBuildpackDir(dir);
    assert.deepEqual(bp.targets, [{ ...any, os: 'linux' }]);
    assert.equal((await lookupBuildpack(root, 'example/node', '1.2.3')).descriptor.buildpack.id, 'example/node');
    await assert.rejects(lookupBuildpack(root, 'example/node', '9.9.9'), (e: unknown) => isCairnError(e, 'NOT_FOUND'));
    const other = buildpackDirPath(root, 'x', '1.0.0');
    await mkdir(other, { recursive: true });
    await writeFile(join(other, 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "y"\nversion = "1.0.0"\n');
    await assert.rejects(lookupBuildpack(root, 'x', '1.0.0'), (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && /describes y@1\.0\.0/.test((e as Error).message));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
