import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCairnError } from '../../src/oci/errors.js';
import { formatTarget, parseTarget } from '../../src/oci/transport.js';

test('a bare name is the local store, with latest by default', () => {
  const t = parseTarget('myapp');
  assert.equal(t.kind, 'local');
  assert.equal(t.kind === 'local' && t.key, 'myapp:latest');
  const v = parseTarget('team/myapp:v2');
  assert.equal(v.kind === 'local' && v.key, 'team/myapp:v2');
});

test('a name with a registry host, or docker://, is a registry', () => {
  for (const s of ['127.0.0.1:5000/a/b:t', 'docker://127.0.0.1:5000/a/b:t']) {
    const t = parseTarget(s);
    assert.equal(t.kind, 'registry');
    assert.equal(formatTarget(t), '127.0.0.1:5000/a/b:t');
  }
  const hub = parseTarget('docker://node:16');
  assert.equal(formatTarget(hub), 'docker.io/library/node:16');
});

test('publish turns a bare name into a Docker Hub reference', () => {
  assert.equal(formatTarget(parseTarget('user/app', { publish: true })), 'docker.io/user/app:latest');
});

test('file transports split path and tag at the first colon', () => {
  assert.deepEqual(parseTarget('oci:/tmp/x:app'), { kind: 'oci', dir: '/tmp/x', tag: 'app' });
  assert.deepEqual(parseTarget('oci:./out'), { kind: 'oci', dir: './out', tag: undefined });
  assert.deepEqual(parseTarget('oci-archive:a.tar:v1'), { kind: 'oci-archive', file: 'a.tar', tag: 'v1' });
  const da = parseTarget('docker-archive:/tmp/a.tar:myapp:v3');
  assert.equal(da.kind, 'docker-archive');
  assert.equal(formatTarget(da), 'docker-archive:/tmp/a.tar:docker.io/library/myapp:v3');
  const dd = parseTarget('docker-daemon:myapp:v3');
  assert.equal(formatTarget(dd), 'docker-daemon:docker.io/library/myapp:v3');
});

test('unknown and unsupported transports are named', () => {
  for (const s of ['containers-storage:app', 'dir:/tmp/x', 'ftp:/x/y', 'docker:app']) {
    assert.throws(() => parseTarget(s), (e: unknown) => isCairnError(e, 'UNKNOWN_TRANSPORT') && /unknown transport/.test((e as Error).message), s);
  }
  assert.throws(() => parseTarget('oci::tag'), (e: unknown) => isCairnError(e, 'INVALID_REFERENCE'));
  assert.throws(() => parseTarget('oci:/x:'), (e: unknown) => isCairnError(e, 'INVALID_REFERENCE'));
});
