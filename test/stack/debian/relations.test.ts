import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRelation, parseRelations } from '../../../src/stack/debian/relations.js';

test('parseRelations reads OR-groups, constraints and architecture qualifiers', () => {
  const r = parseRelations('libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, python3:any,perl:native (<<5.40)', 'Depends of x');
  assert.deepEqual(r, [
    [{ name: 'libc6', constraint: { op: '>=', version: '2.34' } }],
    [{ name: 'debconf', constraint: { op: '>=', version: '0.5' } }, { name: 'debconf-2.0' }],
    [{ name: 'python3', archQualifier: 'any' }],
    [{ name: 'perl', archQualifier: 'native', constraint: { op: '<<', version: '5.40' } }],
  ]);
});

test('parseRelations maps the obsolete < and > to <= and >=', () => {
  assert.deepEqual(parseRelations('a (< 1), b (> 2)', 'x').flat().map((r) => r.constraint?.op), ['<=', '>=']);
});

test('parseRelations accepts empty fields and folded whitespace', () => {
  assert.deepEqual(parseRelations(undefined, 'x'), []);
  assert.deepEqual(parseRelations('  ', 'x'), []);
  assert.deepEqual(parseRelations('a\n  (>=\t1.0)', 'x'), [[{ name: 'a', constraint: { op: '>=', version: '1.0' } }]]);
});

test('parseRelations rejects source-only syntax and garbage, naming the field', () => {
  assert.throws(() => parseRelations('foo [amd64]', 'Depends of bar 1.0'), /Depends of bar 1.0: cannot parse relation "foo \[amd64\]"/);
  assert.throws(() => parseRelations('Foo', 'x'), /cannot parse relation "Foo"/);
  assert.throws(() => parseRelations('foo (~ 1)', 'x'), /cannot parse/);
});

test('formatRelation renders the Debian spelling', () => {
  assert.equal(formatRelation({ name: 'libc6-dev', constraint: { op: '>=', version: '2.36' } }), 'libc6-dev (>= 2.36)');
  assert.equal(formatRelation({ name: 'python3', archQualifier: 'any' }), 'python3:any');
});
