import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BuildMetadataToml } from '../../../src/lifecycle/files/build-metadata-toml.js';
import { buildMetadataLabel, buildMetadataLabelOf, parseBuildMetadataLabel } from '../../../src/lifecycle/labels/build-metadata.js';
import {
  emptyLifecycleMetadata,
  layersMetadataFor,
  lifecycleMetadataLabel,
  parseLifecycleMetadataLabel,
  runImageOf,
  type LifecycleMetadata,
} from '../../../src/lifecycle/labels/lifecycle-metadata.js';
import { isLifecycleLabel, LIFECYCLE_METADATA_LABEL } from '../../../src/lifecycle/labels/names.js';
import { projectMetadataLabel } from '../../../src/lifecycle/labels/project-metadata.js';
import { isCairnError } from '../../../src/oci/errors.js';

const runRef = `reg.io/run@sha256:${'b'.repeat(64)}`;
const md: LifecycleMetadata = {
  app: [{ sha: 'sha256:app1' }, { sha: 'sha256:app2' }],
  sbom: { sha: 'sha256:sbom' },
  buildpacks: [
    {
      key: 'example/node',
      version: '1.2.3',
      layers: {
        node: { sha: 'sha256:node', data: { z: 1, a: 'x' }, build: false, launch: true, cache: true },
        deps: { sha: 'sha256:deps', data: {}, build: true, launch: true, cache: false },
      },
      store: { metadata: { last: 'v' } },
    },
  ],
  config: { sha: 'sha256:config' },
  launcher: { sha: 'sha256:launcher' },
  processTypes: { sha: 'sha256:pt' },
  runImage: { topLayer: 'sha256:top', reference: runRef, image: 'reg.io/run:jammy', mirrors: ['mirror.io/run:jammy'] },
  stack: { runImage: { image: 'reg.io/run:jammy', mirrors: ['mirror.io/run:jammy'] } },
};

test('io.buildpacks.lifecycle.metadata: exact JSON (digest §5.3 shape, layers by name, data keys sorted)', () => {
  assert.equal(
    lifecycleMetadataLabel(md),
    '{"app":[{"sha":"sha256:app1"},{"sha":"sha256:app2"}],"sbom":{"sha":"sha256:sbom"},' +
      '"buildpacks":[{"key":"example/node","version":"1.2.3","layers":{' +
      '"deps":{"sha":"sha256:deps","data":{},"build":true,"launch":true,"cache":false},' +
      '"node":{"sha":"sha256:node","data":{"a":"x","z":1},"build":false,"launch":true,"cache":true}},' +
      '"store":{"metadata":{"last":"v"}}}],' +
      '"config":{"sha":"sha256:config"},"launcher":{"sha":"sha256:launcher"},"process-types":{"sha":"sha256:pt"},' +
      `"runImage":{"topLayer":"sha256:top","reference":"${runRef}","image":"reg.io/run:jammy","mirrors":["mirror.io/run:jammy"]},` +
      '"stack":{"runImage":{"image":"reg.io/run:jammy","mirrors":["mirror.io/run:jammy"]}}}',
  );
  assert.match(lifecycleMetadataLabel({ ...md, execEnv: 'test' }), /,"exec-env":"test"}$/);
});

test('lifecycle metadata label round trip and readers', () => {
  const back = parseLifecycleMetadataLabel(lifecycleMetadataLabel(md));
  assert.equal(lifecycleMetadataLabel(back), lifecycleMetadataLabel(md));
  assert.deepEqual(back.buildpacks[0]!.layers.node, { sha: 'sha256:node', data: { a: 'x', z: 1 }, build: false, launch: true, cache: true });
  assert.deepEqual(layersMetadataFor(back, 'example/node')?.store, { metadata: { last: 'v' } });
  assert.equal(layersMetadataFor(back, 'other'), undefined);
  assert.deepEqual(runImageOf(back), { image: 'reg.io/run:jammy', mirrors: ['mirror.io/run:jammy'] });
});

test('lifecycle metadata label from other lifecycles: stack fallback, null data, minimal', () => {
  const legacy = parseLifecycleMetadataLabel(
    '{"app":[{"sha":"sha256:a"}],"buildpacks":[{"key":"x","version":"1.0.0","layers":{"l":{"sha":"sha256:l","data":null,"build":false,"launch":true,"cache":false}}}],' +
      '"config":{"sha":"sha256:c"},"launcher":{"sha":"sha256:l"},"runImage":{"topLayer":"sha256:t","reference":"r"},"stack":{"runImage":{"image":"old/run","mirrors":["m/run"]}}}',
  );
  assert.deepEqual(runImageOf(legacy), { image: 'old/run', mirrors: ['m/run'] });
  assert.deepEqual(legacy.buildpacks[0]!.layers.l!.data, {});
  assert.equal(legacy.processTypes.sha, '');
  assert.deepEqual(parseLifecycleMetadataLabel('{"app":{"sha":"sha256:old"}}').app, [{ sha: 'sha256:old' }], 'app as one object (old lifecycles)');
  assert.deepEqual(parseLifecycleMetadataLabel('{}'), { ...emptyLifecycleMetadata(), sbom: undefined, stack: undefined, execEnv: undefined, runImage: { topLayer: '', reference: '' } });
});

for (const [name, json, re] of [
  ['not JSON', '{', /not valid JSON/],
  ['not an object', '[]', /expected a JSON object/],
  ['wrong type', '{"app":"x"}', /app: expected an array of tables, got string/],
  ['buildpack without key', '{"buildpacks":[{"version":"1"}]}', /buildpacks\[0\]\.key: is required/],
  ['too deep', '{"a":' + '['.repeat(100) + ']'.repeat(100) + '}', /deeper/],
] as const) {
  test(`lifecycle metadata label rejected: ${name}`, () => {
    assert.throws(
      () => parseLifecycleMetadataLabel(json),
      (e: unknown) => isCairnError(e, 'INVALID_LIFECYCLE_FILE') && (e as Error).message.includes(`label ${LIFECYCLE_METADATA_LABEL}`) && re.test((e as Error).message),
    );
  });
}

const bm: BuildMetadataToml = {
  buildpackDefaultProcessType: 'web',
  buildpacks: [{ id: 'example/node', version: '1.2.3', api: '0.12', homepage: 'https://example.com' }],
  extensions: [],
  labels: [{ key: 'k', value: 'v' }],
  processes: [
    { type: 'web', command: ['node', 'server.js'], args: ['--port=8080'], direct: true, buildpackId: 'example/node', workingDir: '/workspace/app', execEnv: [] },
    { type: 'test', command: ['npm', 'test'], args: [], direct: true, buildpackId: 'example/node', execEnv: ['test'] },
  ],
  slices: [{ paths: ['public/*'] }],
};
const launcher = { version: '0.1.0', source: { git: { repository: 'github.com/example/cairn', commit: 'abc' } } };

test('io.buildpacks.build.metadata: exact JSON (labels and slices left out)', () => {
  const json = buildMetadataLabel(buildMetadataLabelOf(bm, launcher));
  assert.equal(
    json,
    '{"buildpacks":[{"id":"example/node","version":"1.2.3","homepage":"https://example.com","api":"0.12"}],' +
      '"launcher":{"version":"0.1.0","source":{"git":{"repository":"github.com/example/cairn","commit":"abc"}}},' +
      '"processes":[{"type":"web","command":["node","server.js"],"args":["--port=8080"],"direct":true,"buildpackID":"example/node","working-dir":"/workspace/app","exec-env":["*"]},' +
      '{"type":"test","command":["npm","test"],"args":[],"direct":true,"buildpackID":"example/node","exec-env":["test"]}],' +
      '"buildpack-default-process-type":"web"}',
  );
  const back = parseBuildMetadataLabel(json);
  assert.equal(buildMetadataLabel(back), json);
  assert.deepEqual(back.processes[0]!.execEnv, ['*']);
  const withExt = buildMetadataLabel(buildMetadataLabelOf({ ...bm, extensions: [{ id: 'example/apt', version: '0.1.0', api: '0.12' }] }, launcher));
  assert.match(withExt, /"extensions":\[\{"id":"example\/apt","version":"0\.1\.0","api":"0\.12"\}\]/);
});

test('build metadata label of an old image: string command', () => {
  const old = parseBuildMetadataLabel('{"processes":[{"type":"web","command":"bundle exec rails","args":["s"],"direct":false,"buildpackID":"r"}],"buildpacks":[],"launcher":{}}');
  assert.deepEqual(old.processes[0], { type: 'web', command: ['bundle exec rails'], args: ['s'], direct: false, buildpackId: 'r', workingDir: undefined, execEnv: [] });
});

test('io.buildpacks.project.metadata', () => {
  assert.equal(projectMetadataLabel(undefined), '{}');
  assert.equal(projectMetadataLabel({}), '{}');
  assert.equal(
    projectMetadataLabel({ source: { type: 'git', version: { commit: 'abc' }, metadata: { z: 1, repository: 'https://r' } } }),
    '{"source":{"type":"git","version":{"commit":"abc"},"metadata":{"repository":"https://r","z":1}}}',
  );
  assert.equal(projectMetadataLabel({ source: { type: 'git' } }), '{"source":{"type":"git"}}');
});

test('lifecycle-owned labels', () => {
  assert.ok(isLifecycleLabel('io.buildpacks.lifecycle.metadata'));
  assert.ok(isLifecycleLabel('io.buildpacks.rebasable'));
  assert.ok(!isLifecycleLabel('com.example.foo'));
});
