import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CacheMetadata } from '../../../src/lifecycle/cache/cache.js';
import { parseCacheMetadata, referencedDiffIDs, serializeCacheMetadata } from '../../../src/lifecycle/cache/metadata.js';
import { sha256 } from '../../../src/oci/digest.js';

const d1 = sha256('1');
const d2 = sha256('2');

test('serialisation is deterministic and parses back to the same value', () => {
  const md: CacheMetadata = {
    buildpacks: [
      { key: 'b/x', version: '2.0', layers: { z: { sha: d2, data: { b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'v' } }, build: true, launch: true, cache: true }, a: { sha: d1, data: {}, build: false, launch: false, cache: true } } },
      { key: 'a/y', version: '1.0', layers: {} },
    ],
    sbom: { sha: d1 },
  };
  const reordered: CacheMetadata = {
    sbom: { sha: d1 },
    buildpacks: [
      { version: '2.0', key: 'b/x', layers: { a: { cache: true, launch: false, build: false, data: {}, sha: d1 }, z: { sha: d2, cache: true, launch: true, build: true, data: { a: { c: 'v', d: [1, { x: 1, y: 2 }] }, b: 1 } } } },
      { key: 'a/y', version: '1.0', layers: {} },
    ],
  } as CacheMetadata;
  const text = serializeCacheMetadata(md);
  assert.equal(serializeCacheMetadata(reordered), text);
  assert.equal(text, `{"buildpacks":[{"key":"b/x","version":"2.0","layers":{"a":{"sha":"${d1}","data":{},"build":false,"launch":false,"cache":true},"z":{"sha":"${d2}","data":{"a":{"c":"v","d":[1,{"x":1,"y":2}]},"b":1},"build":true,"launch":true,"cache":true}}},{"key":"a/y","version":"1.0","layers":{}}],"sbom":{"sha":"${d1}"}}`);
  const warnings: string[] = [];
  assert.deepEqual(parseCacheMetadata(text, 'test', (m) => warnings.push(m)), JSON.parse(text));
  assert.deepEqual(warnings, []);
  assert.deepEqual(referencedDiffIDs(md).sort(), [d1, d2].sort());
});

test('the reference lifecycle\'s documents parse: missing types are false, missing data is empty', () => {
  const warnings: string[] = [];
  const md = parseCacheMetadata(JSON.stringify({ buildpacks: [{ key: 'example/node', version: '1.2.3', layers: { deps: { sha: d1, cache: true }, none: null } }], extra: 1 }), 'test', (m) => warnings.push(m));
  assert.deepEqual(md, { buildpacks: [{ key: 'example/node', version: '1.2.3', layers: { deps: { sha: d1, data: {}, build: false, launch: false, cache: true } } }] });
  assert.deepEqual(warnings, []);
});

test('documents too large or too deep are dropped with a warning', () => {
  for (const text of [JSON.stringify({ buildpacks: [], pad: 'x'.repeat(5 * 1024 * 1024) }), '{"a":'.repeat(100) + '1' + '}'.repeat(100)]) {
    const warnings: string[] = [];
    assert.deepEqual(parseCacheMetadata(text, 'test', (m) => warnings.push(m)), { buildpacks: [] });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^test: ignoring its metadata, the build runs without cache: /);
  }
});
