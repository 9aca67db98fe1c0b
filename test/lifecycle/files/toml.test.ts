import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Fields } from '../../../src/lifecycle/files/fields.js';
import { parseStoreToml } from '../../../src/lifecycle/files/store-toml.js';
import { canonical, MAX_TOML_BYTES, MAX_TOML_DEPTH, parseToml, readBoundedFile, readCnbFile, stringifyToml } from '../../../src/lifecycle/files/toml.js';
import { isCairnError } from '../../../src/oci/errors.js';

const invalid = (re: RegExp) => (e: unknown) => {
  assert.ok(isCairnError(e, 'INVALID_LIFECYCLE_FILE'), String(e));
  assert.match((e as Error).message, re);
  assert.ok((e as { hint?: string }).hint, 'has a hint');
  return true;
};

test('parse errors name the file', () => {
  assert.throws(() => parseToml('a = ', 'order.toml'), invalid(/^invalid order\.toml: not valid TOML/));
});

test('rejects documents over the size bound', () => {
  const big = `x = "${'a'.repeat(MAX_TOML_BYTES)}"`;
  assert.throws(() => parseToml(big, 'launch.toml'), invalid(/launch\.toml: larger than/));
});

test('rejects documents nested deeper than the bound', () => {
  const deepTables = Array.from({ length: MAX_TOML_DEPTH + 2 }, (_, i) => `k${i}`).join('.');
  assert.throws(() => parseToml(`[${deepTables}]\nx = 1`, 'store.toml'), invalid(/store\.toml: .*deeper/));
  const deepArrays = `x = ${'['.repeat(MAX_TOML_DEPTH + 2)}${']'.repeat(MAX_TOML_DEPTH + 2)}`;
  assert.throws(() => parseToml(deepArrays, 'store.toml'), invalid(/store\.toml/));
  assert.doesNotThrow(() => parseToml('[a.b.c]\nx = [[1], [2]]', 'ok.toml'));
});

test('Fields report file, dotted path and types', () => {
  const f = new Fields('order.toml', parseToml('[[order]]\ngroup = [{ id = "a", version = 1 }]', 'order.toml'));
  const g = f.tables('order')[0]!.tables('group')[0]!;
  assert.equal(g.requiredString('id'), 'a');
  assert.throws(() => g.requiredString('version'), invalid(/^invalid order\.toml: order\[0\]\.group\[0\]\.version: expected a string, got integer$/));
  assert.throws(() => g.requiredString('missing'), invalid(/order\[0\]\.group\[0\]\.missing: is required/));
  assert.throws(() => f.tables('order')[0]!.strings('group'), invalid(/: order\[0\]\.group\[0\]: expected a string, got table$/));
  assert.throws(() => f.table('order'), invalid(/: order: expected a table, got array$/));
  assert.equal(g.boolean('optional'), undefined);
  assert.deepEqual(f.tables('absent'), []);
});

test('free-form tables are copied with sorted keys; __proto__ stays a plain key', () => {
  const doc = parseToml('[metadata]\nz = 1\na = { y = 2, b = [ { d = 1, c = 2 } ] }\n"__proto__" = { polluted = true }', 'x.toml');
  const md = new Fields('x.toml', doc).freeform('metadata')!;
  assert.deepEqual(Object.keys(md), ['__proto__', 'a', 'z']);
  assert.deepEqual(Object.keys((md.a as Record<string, unknown>)), ['b', 'y']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(md), Object.prototype);
  assert.deepEqual(canonical({ b: 1, a: [{ d: 1, c: 2 }] }), { a: [{ c: 2, d: 1 }], b: 1 });
});

test('stringify omits undefined and ends with a newline', () => {
  assert.equal(stringifyToml({ a: 'x', b: undefined, c: { d: undefined, e: 1 } }), 'a = "x"\n\n[c]\ne = 1\n');
});

test('readBoundedFile: optional missing file, too large, not a regular file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-toml-'));
  try {
    assert.equal(await readBoundedFile(join(dir, 'none'), 10, true), undefined);
    await assert.rejects(readBoundedFile(join(dir, 'none'), 10), (e: unknown) => isCairnError(e, 'IO'));
    await writeFile(join(dir, 'big'), 'x'.repeat(11));
    await assert.rejects(readBoundedFile(join(dir, 'big'), 10), invalid(/big: larger than 10 bytes/));
    assert.equal(await readBoundedFile(join(dir, 'big'), 11), 'x'.repeat(11));
    await mkdir(join(dir, 'sub'));
    await assert.rejects(readBoundedFile(join(dir, 'sub'), 10), invalid(/not a regular file/));
    await writeFile(join(dir, 'store.toml'), '[metadata]\nk = "v"');
    assert.deepEqual(await readCnbFile(join(dir, 'store.toml'), parseStoreToml), { metadata: { k: 'v' } });
    assert.equal(await readCnbFile(join(dir, 'b.toml'), parseStoreToml, true), undefined);
    await writeFile(join(dir, 'bad.toml'), 'metadata = 1');
    await assert.rejects(readCnbFile(join(dir, 'bad.toml'), parseStoreToml), invalid(new RegExp(`^invalid ${dir}/bad\\.toml: metadata: expected a table`)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
