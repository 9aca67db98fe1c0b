import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIgnoredLayer, isReservedLayerName, layerExecEnv, parseLayerToml, serializeLayerToml } from '../../../src/lifecycle/files/layer-toml.js';
import { parseLaunchToml, serializeLaunchToml } from '../../../src/lifecycle/files/launch-toml.js';
import { parseStoreToml, serializeStoreToml } from '../../../src/lifecycle/files/store-toml.js';
import { isCairnError } from '../../../src/oci/errors.js';

const rejects = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(isCairnError(e, 'INVALID_LIFECYCLE_FILE'), String(e));
    assert.match((e as Error).message, re);
    return true;
  });

test('<layer>.toml: [types] and [metadata] (digest §2.6)', () => {
  const l = parseLayerToml('[types]\nlaunch = true\ncache = true\n[metadata]\nversion = "18.0.0"\nexec-env = ["production"]\n');
  assert.deepEqual(l, { types: { launch: true, build: false, cache: true }, metadata: { 'exec-env': ['production'], version: '18.0.0' } });
  assert.deepEqual(layerExecEnv(l), ['production']);
  assert.deepEqual(parseLayerToml(serializeLayerToml(l)), l);
  assert.deepEqual(parseLayerToml(''), { types: { launch: false, build: false, cache: false }, metadata: {} }, 'missing [types] = all false');
  assert.ok(isIgnoredLayer(parseLayerToml('').types));
  assert.ok(!isIgnoredLayer(l.types));
});

test('<layer>.toml: restored form has no [types]', () => {
  const l = parseLayerToml('[types]\nlaunch = true\n[metadata]\nk = "v"\n');
  const restored = serializeLayerToml(l, false);
  assert.equal(restored, '[metadata]\nk = "v"\n');
  assert.deepEqual(parseLayerToml(restored).types, { launch: false, build: false, cache: false });
});

for (const key of ['launch', 'build', 'cache']) {
  test(`<layer>.toml: top-level ${key} rejected (reference lifecycle)`, () => {
    rejects(() => parseLayerToml(`${key} = true\n`, '/layers/bp/node.toml'), new RegExp(`^invalid /layers/bp/node\\.toml: ${key}: the launch, build and cache flags belong in the \\[types\\] table`));
  });
}

test('<layer>.toml: type errors and reserved names', () => {
  rejects(() => parseLayerToml('[types]\nlaunch = "yes"\n'), /types\.launch: expected a boolean, got string/);
  assert.ok(isReservedLayerName('launch') && isReservedLayerName('build') && isReservedLayerName('store'));
  assert.ok(!isReservedLayerName('node'));
});

const LAUNCH = `
[[labels]]
key = "com.example.foo"
value = "bar"

[[processes]]
type = "web"
command = ["bundle", "exec", "rails"]
args = ["server"]
default = true
working-dir = "/workspace/sub"
exec-env = ["production"]

[[processes]]
type = "worker"
command = ["sidekiq"]

[[slices]]
paths = ["public/*", "assets/*"]
`;

test('launch.toml (digest §2.5 example)', () => {
  const l = parseLaunchToml(LAUNCH);
  assert.deepEqual(l, {
    labels: [{ key: 'com.example.foo', value: 'bar' }],
    processes: [
      { type: 'web', command: ['bundle', 'exec', 'rails'], args: ['server'], default: true, workingDir: '/workspace/sub', execEnv: ['production'] },
      { type: 'worker', command: ['sidekiq'], args: [], default: false, workingDir: undefined, execEnv: [] },
    ],
    slices: [{ paths: ['public/*', 'assets/*'] }],
    bom: [],
  });
  assert.deepEqual(parseLaunchToml(serializeLaunchToml(l)), l);
  assert.deepEqual(parseLaunchToml(''), { labels: [], processes: [], slices: [], bom: [] });
});

const badLaunch: [string, string, RegExp][] = [
  ['direct (API ≥ 0.9)', '[[processes]]\ntype = "web"\ncommand = ["x"]\ndirect = true\n', /processes\[0\]\.direct: is not supported for Buildpack API 0\.9/],
  ['string command', '[[processes]]\ntype = "web"\ncommand = "x"\n', /processes\[0\]\.command: must be an array/],
  ['empty command', '[[processes]]\ntype = "web"\ncommand = []\n', /processes\[0\]\.command: is required/],
  ['missing type', '[[processes]]\ncommand = ["x"]\n', /processes\[0\]\.type: is required/],
  ['bad type', '[[processes]]\ntype = "a/b"\ncommand = ["x"]\n', /processes\[0\]\.type: "a\/b" may contain only/],
  ['duplicate type', '[[processes]]\ntype = "web"\ncommand = ["x"]\n[[processes]]\ntype = "web"\ncommand = ["y"]\n', /processes\[1\]\.type: "web" is given twice/],
  [
    'two defaults',
    '[[processes]]\ntype = "a"\ncommand = ["x"]\ndefault = true\n[[processes]]\ntype = "b"\ncommand = ["y"]\ndefault = true\n',
    /processes\[1\]\.default: only one process may have default = true/,
  ],
  ['duplicate label', '[[labels]]\nkey = "k"\nvalue = "1"\n[[labels]]\nkey = "k"\nvalue = "2"\n', /labels\[1\]\.key: "k" is given twice/],
  ['label without value', '[[labels]]\nkey = "k"\n', /labels\[0\]\.value: is required/],
  ['slice escaping app', '[[slices]]\npaths = ["a/../../etc"]\n', /slices\[0\]\.paths\[0\]: "a\/\.\.\/\.\.\/etc" points outside/],
  ['args not strings', '[[processes]]\ntype = "web"\ncommand = ["x"]\nargs = [1]\n', /processes\[0\]\.args\[0\]: expected a string, got integer/],
];
for (const [name, text, re] of badLaunch) {
  test(`launch.toml rejects ${name}`, () => rejects(() => parseLaunchToml(text, '/layers/bp/launch.toml'), re));
}

test('launch.toml accepts absolute slices and legacy bom', () => {
  const l = parseLaunchToml('[[slices]]\npaths = ["/workspace/public/*", "./a/../b"]\n[[bom]]\nname = "dep"\n');
  assert.deepEqual(l.slices, [{ paths: ['/workspace/public/*', './a/../b'] }]);
  assert.deepEqual(l.bom, [{ name: 'dep', metadata: {} }]);
});

test('store.toml', () => {
  const s = parseStoreToml('[metadata]\nb = 2\na = { c = [1, 2] }\n');
  assert.deepEqual(s, { metadata: { a: { c: [1, 2] }, b: 2 } });
  assert.equal(serializeStoreToml(s), '[metadata]\nb = 2\n\n[metadata.a]\nc = [ 1, 2 ]\n');
  assert.equal(serializeStoreToml({ metadata: { b: 2, a: { c: [1, 2] } } }), serializeStoreToml(s), 'key order of the input does not matter');
  assert.deepEqual(parseStoreToml(serializeStoreToml(s)), s);
  assert.deepEqual(parseStoreToml(''), { metadata: {} });
});
