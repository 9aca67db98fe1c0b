import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGroupToml, serializeGroupToml } from '../../../src/lifecycle/files/group-toml.js';
import { parseOrderToml, serializeOrderToml } from '../../../src/lifecycle/files/order-toml.js';
import { parseSystemToml, serializeSystemToml } from '../../../src/lifecycle/files/system-toml.js';
import { isCairnError } from '../../../src/oci/errors.js';

const rejects = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(isCairnError(e, 'INVALID_LIFECYCLE_FILE'), String(e));
    assert.match((e as Error).message, re);
    return true;
  });

test('order.toml (digest §3.1 example)', () => {
  const o = parseOrderToml(`
[[order]]
group = [ { id = "example/node", version = "1.2.3", optional = false }, { id = "example/npm", version = "0.1.0" } ]
[[order-extensions]]
group = [ { id = "example/apt", version = "0.1.0" } ]
`);
  assert.deepEqual(o, {
    order: [
      {
        group: [
          { id: 'example/node', version: '1.2.3', optional: false, execEnv: [] },
          { id: 'example/npm', version: '0.1.0', optional: false, execEnv: [] },
        ],
      },
    ],
    orderExtensions: [{ group: [{ id: 'example/apt', version: '0.1.0', optional: false, execEnv: [] }] }],
  });
  assert.deepEqual(parseOrderToml(serializeOrderToml(o)), o);
  assert.equal(serializeOrderToml(parseOrderToml(serializeOrderToml(o))), serializeOrderToml(o));
  assert.deepEqual(parseOrderToml(''), { order: [], orderExtensions: [] });
});

test('order.toml requires id and version', () => {
  rejects(() => parseOrderToml('[[order]]\ngroup = [{ id = "a" }]'), /^invalid order\.toml: order\[0\]\.group\[0\]\.version: is required/);
  rejects(() => parseOrderToml('[[order]]\ngroup = [{ version = "1.0.0" }]'), /order\[0\]\.group\[0\]\.id: is required/);
  rejects(() => parseOrderToml('[[order]]\ngroup = [{ id = "a", version = "1.0.0", optional = "no" }]'), /optional: expected a boolean/);
  rejects(() => parseOrderToml('order = "x"'), /order: expected an array of tables, got string/);
});

test('system.toml (Platform 0.15)', () => {
  const s = parseSystemToml(`
[[system.pre.buildpacks]]
id = "example/pre"
version = "1.0.0"
optional = true
[[system.post.buildpacks]]
id = "example/post"
version = "1.0.0"
`);
  assert.deepEqual(s, {
    pre: [{ id: 'example/pre', version: '1.0.0', optional: true, execEnv: [] }],
    post: [{ id: 'example/post', version: '1.0.0', optional: false, execEnv: [] }],
  });
  assert.deepEqual(parseSystemToml(serializeSystemToml(s)), s);
  assert.deepEqual(parseSystemToml(''), { pre: [], post: [] });
  rejects(() => parseSystemToml('[[system.pre.buildpacks]]\nid = "a"'), /system\.pre\.buildpacks\[0\]\.version: is required/);
});

test('group.toml: id, version, api required; no optional', () => {
  const g = parseGroupToml(`
[[group]]
id = "example/node"
version = "1.2.3"
api = "0.12"
homepage = "https://example.com"
optional = true
[[group-extensions]]
id = "example/apt"
version = "0.1.0"
api = "0.12"
`);
  assert.deepEqual(g, {
    group: [{ id: 'example/node', version: '1.2.3', api: '0.12', homepage: 'https://example.com' }],
    groupExtensions: [{ id: 'example/apt', version: '0.1.0', api: '0.12', homepage: undefined }],
  });
  const text = serializeGroupToml(g);
  assert.doesNotMatch(text, /optional/);
  assert.equal(text, '[[group]]\nid = "example/node"\nversion = "1.2.3"\napi = "0.12"\nhomepage = "https://example.com"\n\n[[group-extensions]]\nid = "example/apt"\nversion = "0.1.0"\napi = "0.12"\n');
  rejects(() => parseGroupToml('[[group]]\nid = "a"\nversion = "1.0.0"'), /group\[0\]\.api: is required/);
});
