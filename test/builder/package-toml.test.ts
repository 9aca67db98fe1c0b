/** package.toml in pack's format, read strictly. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePackageToml } from '../../src/builder/package-toml.js';

test('buildpack, dependencies (uri or image), platform and targets', () => {
  const c = parsePackageToml(`
buildpack = { uri = "." }
dependencies = [ { uri = "../dep" }, { image = "example/other:2.0" } ]
platform = { os = "linux" }
[[targets]]
os = "linux"
arch = "arm64"
variant = "v8"
distros = [ { name = "debian", version = "12" } ]
`);
  assert.deepEqual(c, {
    buildpack: '.',
    dependencies: ['../dep', 'docker://example/other:2.0'],
    os: 'linux',
    targets: [{ os: 'linux', arch: 'arm64', variant: 'v8', distros: [{ name: 'debian', version: '12' }] }],
  });
});

test('unknown keys, missing and conflicting fields are errors naming the key', () => {
  const rejects = (text: string, code: string, message: RegExp) =>
    assert.throws(() => parsePackageToml(text, 'package.toml'), (e: Error & { code?: string }) => e.code === code && message.test(e.message));
  rejects('buildpack = { uri = "." }\ndependancies = []\n', 'INVALID_ARGUMENT', /unknown key "dependancies"/);
  rejects('buildpack = { url = "." }\n', 'INVALID_ARGUMENT', /unknown key "buildpack\.url"/);
  rejects('dependencies = [ { uri = "x" } ]\n', 'INVALID_ARGUMENT', /buildpack is required/);
  rejects('buildpack = { uri = "." }\ndependencies = [ { uri = "x", image = "y" } ]\n', 'INVALID_ARGUMENT', /dependencies\[0\]\.image and uri are both given/);
  rejects('buildpack = { uri = "." }\nplatform = { os = "darwin" }\n', 'INVALID_ARGUMENT', /platform\.os must be linux or windows/);
  rejects('buildpack = { uri = "." }\nplatform = { os = "windows" }\n', 'UNSUPPORTED', /Windows buildpackages are not supported/);
  rejects('extension = { uri = "." }\n', 'UNSUPPORTED', /image extensions are not supported/);
});
