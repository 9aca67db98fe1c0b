import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCairnError } from '../../src/oci/errors.js';
import { formatImageName, normalizeRegistryName, parseImageName } from '../../src/oci/reference.js';

test('parses names with registry, port, path, tag and digest', () => {
  const d = 'sha256:' + 'a'.repeat(64);
  assert.deepEqual(parseImageName(`127.0.0.1:5000/team/app:1.0@${d}`), { registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.0', digest: d });
  assert.deepEqual(parseImageName('myapp'), { registry: undefined, repository: 'myapp', tag: undefined, digest: undefined });
  assert.deepEqual(parseImageName('localhost/app:v2'), { registry: 'localhost', repository: 'app', tag: 'v2', digest: undefined });
  assert.deepEqual(parseImageName('ghcr.io/a/b/c'), { registry: 'ghcr.io', repository: 'a/b/c', tag: undefined, digest: undefined });
  assert.equal(parseImageName('team/app').registry, undefined, 'a first component without . or : is a path');
  assert.deepEqual(parseImageName('a__b/c-d.e:t_1.x-y').repository, 'a__b/c-d.e');
});

test('normalises Docker Hub names and default tag', () => {
  assert.equal(formatImageName(normalizeRegistryName(parseImageName('node'))), 'docker.io/library/node:latest');
  assert.equal(formatImageName(normalizeRegistryName(parseImageName('index.docker.io/user/app:1'))), 'docker.io/user/app:1');
  assert.equal(formatImageName(normalizeRegistryName(parseImageName('127.0.0.1:5000/app'))), '127.0.0.1:5000/app:latest');
  const d = 'sha256:' + 'b'.repeat(64);
  assert.equal(normalizeRegistryName(parseImageName(`app@${d}`)).tag, undefined, 'a digest needs no default tag');
});

for (const bad of ['', 'MyApp', 'app:', 'app:-x', 'a//b', '/app', 'app/', 'app@sha256:123', 'app@md5:' + 'a'.repeat(32), 'bad host:1/x', 'a'.repeat(256), 'app:' + 't'.repeat(129), '-app', 'app..x']) {
  test(`rejects ${JSON.stringify(bad.length > 40 ? bad.slice(0, 20) + '…' : bad)} with INVALID_REFERENCE and a hint`, () => {
    assert.throws(() => parseImageName(bad), (e: unknown) => {
      assert.ok(isCairnError(e, 'INVALID_REFERENCE') || isCairnError(e, 'INVALID_DIGEST'), String(e));
      assert.match((e as Error).message, /invalid|unsupported/);
      return true;
    });
  });
}
