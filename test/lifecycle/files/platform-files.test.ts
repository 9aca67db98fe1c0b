import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAnalyzedToml, runImageTarget, serializeAnalyzedToml } from '../../../src/lifecycle/files/analyzed-toml.js';
import { parseBuildMetadataToml, serializeBuildMetadataToml } from '../../../src/lifecycle/files/build-metadata-toml.js';
import { parseProjectMetadataToml, serializeProjectMetadataToml } from '../../../src/lifecycle/files/project-metadata-toml.js';
import { parseReportToml, serializeReportToml } from '../../../src/lifecycle/files/report-toml.js';
import { parseRunToml, parseStackToml, runImageForExport, serializeRunToml, serializeStackToml } from '../../../src/lifecycle/files/run-toml.js';
import { isCairnError } from '../../../src/oci/errors.js';

const ANALYZED = `
[image]
reference = "reg.io/app@sha256:${'a'.repeat(64)}"

[run-image]
reference = "reg.io/run@sha256:${'b'.repeat(64)}"
image = "reg.io/run:jammy"
extend = false
[run-image.target]
id = "io.buildpacks.stacks.jammy"
os = "linux"
arch = "arm64"
arch-variant = "v8"
distro = { name = "ubuntu", version = "22.04" }

[metadata]
[[metadata.app]]
sha = "sha256:app1"
[metadata.sbom]
sha = "sha256:sbom"
[metadata.config]
sha = "sha256:config"
[metadata.launcher]
sha = "sha256:launcher"
[metadata.process-types]
sha = "sha256:pt"
[metadata.run-image]
top-layer = "sha256:top"
reference = "reg.io/run@sha256:${'b'.repeat(64)}"
image = "reg.io/run:jammy"
mirrors = ["mirror.io/run:jammy"]
[[metadata.buildpacks]]
key = "example/node"
version = "1.2.3"
[metadata.buildpacks.layers.node]
sha = "sha256:node"
build = false
launch = true
cache = true
[metadata.buildpacks.layers.node.metadata]
version = "18.0.0"
[metadata.buildpacks.store.metadata]
last = "x"
[metadata.stack.run-image]
image = "reg.io/run:jammy"
`;

test('analyzed.toml: all sections, arch-variant read as variant', () => {
  const a = parseAnalyzedToml(ANALYZED);
  assert.equal(a.image?.reference, `reg.io/app@sha256:${'a'.repeat(64)}`);
  assert.deepEqual(a.runImage?.target, { id: 'io.buildpacks.stacks.jammy', os: 'linux', arch: 'arm64', variant: 'v8', distro: { name: 'ubuntu', version: '22.04' } });
  assert.equal(a.runImage?.image, 'reg.io/run:jammy');
  assert.equal(a.runImage?.extend, false);
  const md = a.metadata;
  assert.deepEqual(md.app, [{ sha: 'sha256:app1' }]);
  assert.deepEqual(md.sbom, { sha: 'sha256:sbom' });
  assert.equal(md.processTypes.sha, 'sha256:pt');
  assert.deepEqual(md.runImage, { topLayer: 'sha256:top', reference: `reg.io/run@sha256:${'b'.repeat(64)}`, image: 'reg.io/run:jammy', mirrors: ['mirror.io/run:jammy'] });
  assert.deepEqual(md.buildpacks, [
    { key: 'example/node', version: '1.2.3', layers: { node: { sha: 'sha256:node', data: { version: '18.0.0' }, build: false, launch: true, cache: true } }, store: { metadata: { last: 'x' } } },
  ]);
  assert.deepEqual(md.stack, { runImage: { image: 'reg.io/run:jammy', mirrors: undefined } });
  const text = serializeAnalyzedToml(a);
  assert.match(text, /\nvariant = "v8"\n/, 'written with the spec key');
  assert.doesNotMatch(text, /arch-variant/);
  assert.deepEqual(parseAnalyzedToml(text), a);
  assert.equal(serializeAnalyzedToml(parseAnalyzedToml(text)), text);
});

test('analyzed.toml: empty and minimal', () => {
  const a = parseAnalyzedToml('');
  assert.equal(a.image, undefined);
  assert.deepEqual(runImageTarget(a), { os: '', arch: '' });
  assert.deepEqual(a.metadata.buildpacks, []);
  assert.throws(() => parseAnalyzedToml('[run-image]\nreference = 1\n'), (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && /run-image\.reference: expected a string/.test((e as Error).message));
});

test('run.toml and stack.toml', () => {
  const r = parseRunToml('[[images]]\nimage = "reg.io/run:jammy"\nmirrors = ["mirror.io/run:jammy", "other.io/run:jammy"]\n[[images]]\nimage = "reg.io/run:noble"\n');
  assert.deepEqual(r.images, [
    { image: 'reg.io/run:jammy', mirrors: ['mirror.io/run:jammy', 'other.io/run:jammy'] },
    { image: 'reg.io/run:noble', mirrors: [] },
  ]);
  assert.deepEqual(parseRunToml(serializeRunToml(r)), r);
  assert.throws(() => parseRunToml('[[images]]\nmirrors = ["m/x"]\n'), (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && /images\[0\]\.mirrors: must not be given without image/.test((e as Error).message));
  const s = parseStackToml('[run-image]\nimage = "reg.io/run:bionic"\nmirrors = ["m.io/run:bionic"]\n');
  assert.deepEqual(s, { runImage: { image: 'reg.io/run:bionic', mirrors: ['m.io/run:bionic'] } });
  assert.deepEqual(parseStackToml(serializeStackToml(s)), s);
});

test('run image mirror set for the label (digest §4.3)', () => {
  const r = parseRunToml('[[images]]\nimage = "reg.io/run:jammy"\nmirrors = ["mirror.io/run:jammy"]\n[[images]]\nimage = "reg.io/other:1"\nmirrors = ["mirror.io/other:1"]\n');
  assert.deepEqual(runImageForExport(r, 'mirror.io/other@sha256:' + 'c'.repeat(64)), { image: 'reg.io/other:1', mirrors: ['mirror.io/other:1'] }, 'matches a mirror, digest ignored');
  assert.deepEqual(runImageForExport(r, 'reg.io/run:other-tag'), { image: 'reg.io/run:jammy', mirrors: ['mirror.io/run:jammy'] }, 'tag ignored');
  assert.deepEqual(runImageForExport(r, 'elsewhere.io/x:1'), { image: 'reg.io/run:jammy', mirrors: ['mirror.io/run:jammy'] }, 'else the first entry');
  assert.deepEqual(runImageForExport({ images: [] }, 'x'), {});
});

test('project-metadata.toml', () => {
  const p = parseProjectMetadataToml('[source]\ntype = "git"\n[source.version]\ncommit = "abc123"\n[source.metadata]\nrepository = "https://example.com/r"\n');
  assert.deepEqual(p, { source: { type: 'git', version: { commit: 'abc123' }, metadata: { repository: 'https://example.com/r' } } });
  assert.deepEqual(parseProjectMetadataToml(serializeProjectMetadataToml(p)), p);
  assert.deepEqual(parseProjectMetadataToml(''), {});
});

test('report.toml', () => {
  const r = { image: { tags: ['reg.io/app:latest', 'reg.io/app:v1'], digest: 'sha256:' + 'd'.repeat(64), manifestSize: 1234 } };
  const text = serializeReportToml(r);
  assert.equal(text, `[image]\ntags = [ "reg.io/app:latest", "reg.io/app:v1" ]\ndigest = "sha256:${'d'.repeat(64)}"\nmanifest-size = 1234\n`);
  assert.deepEqual(parseReportToml(text), { image: { ...r.image, imageId: undefined } });
  assert.deepEqual(parseReportToml(serializeReportToml({ image: { tags: ['app'], imageId: 'sha256:e' } })).image.imageId, 'sha256:e');
});

test('config/metadata.toml: processes get exec-env ["*"], legacy string command read', () => {
  const m = {
    buildpackDefaultProcessType: 'web',
    buildpacks: [{ id: 'example/node', version: '1.2.3', api: '0.12', homepage: 'https://e.com' }],
    extensions: [],
    labels: [{ key: 'k', value: 'v' }],
    processes: [{ type: 'web', command: ['node', 'server.js'], args: ['--port', '8080'], direct: true, buildpackId: 'example/node', workingDir: '/workspace/sub', execEnv: [] }],
    slices: [{ paths: ['public/*'] }],
  };
  const text = serializeBuildMetadataToml(m);
  assert.match(text, /^buildpack-default-process-type = "web"\n/);
  assert.match(text, /exec-env = \[ "\*" \]/);
  const back = parseBuildMetadataToml(text);
  assert.deepEqual(back, { ...m, processes: [{ ...m.processes[0]!, execEnv: ['*'] }] });
  const legacy = parseBuildMetadataToml('[[processes]]\ntype = "web"\ncommand = "node"\nbuildpack-id = "a"\n');
  assert.deepEqual(legacy.processes[0]!.command, ['node']);
  assert.equal(legacy.processes[0]!.direct, true);
});
