import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges } from '../../../src/oci/auth/challenge.js';

test('a Bearer challenge with quoted parameters', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/node:pull,push' } },
  ]);
});

test('Basic, unquoted values, odd spacing and escapes', () => {
  assert.deepEqual(parseChallenges('Basic realm="Registry \\"Realm\\""'), [{ scheme: 'basic', params: { realm: 'Registry "Realm"' } }]);
  assert.deepEqual(parseChallenges('bearer  Realm = http://127.0.0.1:1/token , service=svc'), [
    { scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 'svc' } },
  ]);
});

test('several challenges in one header or several headers; insufficient_scope error', () => {
  assert.deepEqual(parseChallenges('Bearer realm="r",error="insufficient_scope", Basic realm="b"'), [
    { scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope' } },
    { scheme: 'basic', params: { realm: 'b' } },
  ]);
  assert.deepEqual(parseChallenges(['Negotiate', 'Basic realm="x"']).map((c) => c.scheme), ['negotiate', 'basic']);
  assert.deepEqual(parseChallenges(undefined), []);
});
