import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEnvFiles, compareFileNames, parseEnvFileName, type EnvAction, type EnvFile } from '../../../src/lifecycle/env/env-files.js';
import { Env } from '../../../src/lifecycle/env/env.js';

const files = (o: Record<string, string>): EnvFile[] => Object.entries(o).map(([name, contents]) => ({ name, contents }));

test('Env is an immutable ordered map', () => {
  const a = Env.from({ B: '1', A: '2', U: undefined });
  const b = a.set('B', '3').set('C', '4');
  assert.deepEqual(a.entries(), [
    ['B', '1'],
    ['A', '2'],
  ]);
  assert.deepEqual(b.toList(), ['B=3', 'A=2', 'C=4'], 'a replaced variable keeps its place');
  assert.equal(b.get('missing'), '');
  assert.ok(!b.has('missing'));
  assert.deepEqual(b.delete('A').names(), ['B', 'C']);
  assert.equal(b.delete('nope'), b);
  assert.deepEqual(Env.from([['X', 'y']]).toRecord(), { X: 'y' });
});

test('file names split at the first dot', () => {
  assert.deepEqual(parseEnvFileName('PATH.prepend'), { variable: 'PATH', suffix: 'prepend' });
  assert.deepEqual(parseEnvFileName('JAVA_OPTS'), { variable: 'JAVA_OPTS', suffix: undefined });
  assert.deepEqual(parseEnvFileName('A.b.c'), { variable: 'A', suffix: 'b.c' });
  assert.ok(compareFileNames('PATH.append', 'PATH.delim') < 0 && compareFileNames('PATH.delim', 'PATH.prepend') < 0);
  assert.ok(compareFileNames('Z', 'a') < 0, 'byte order: upper case first');
});

// [name, starting env, files, default action, expected value of VAR]
const cases: [string, Record<string, string>, Record<string, string>, EnvAction, string | undefined][] = [
  ['no suffix overrides (API ≥ 0.5)', { VAR: 'old' }, { VAR: 'new' }, 'override', 'new'],
  ['no suffix with default action (operator env)', { VAR: 'old' }, { VAR: 'new' }, 'default', 'old'],
  ['.override', { VAR: 'old' }, { 'VAR.override': 'new' }, 'override', 'new'],
  ['.default when unset', {}, { 'VAR.default': 'd' }, 'override', 'd'],
  ['.default when empty', { VAR: '' }, { 'VAR.default': 'd' }, 'override', 'd'],
  ['.default when set', { VAR: 'x' }, { 'VAR.default': 'd' }, 'override', 'x'],
  ['.prepend without .delim: no separator', { VAR: 'old' }, { 'VAR.prepend': 'new' }, 'override', 'newold'],
  ['.append without .delim: no separator', { VAR: 'old' }, { 'VAR.append': 'new' }, 'override', 'oldnew'],
  ['.prepend with .delim', { VAR: 'old' }, { 'VAR.prepend': 'new', 'VAR.delim': ':' }, 'override', 'new:old'],
  ['.append with .delim', { VAR: 'old' }, { 'VAR.append': 'new', 'VAR.delim': ' ' }, 'override', 'old new'],
  ['prepend to empty: no delimiter', {}, { 'VAR.prepend': 'new', 'VAR.delim': ':' }, 'override', 'new'],
  ['append to empty: no delimiter', { VAR: '' }, { 'VAR.append': 'new', 'VAR.delim': ':' }, 'override', 'new'],
  ['contents raw (trailing newline kept)', {}, { VAR: 'a\n' }, 'override', 'a\n'],
  ['unknown suffix ignored', { VAR: 'old' }, { 'VAR.bogus': 'x' }, 'override', 'old'],
  ['.delim alone sets nothing', {}, { 'VAR.delim': ':' }, 'override', undefined],
  ['append then prepend in file-name order', { VAR: 'x' }, { 'VAR.prepend': 'p', 'VAR.append': 'a', 'VAR.delim': ',' }, 'override', 'p,x,a'],
  ['override then default: default yields', {}, { 'VAR.override': 'o', 'VAR.default': 'd' }, 'override', 'o'],
];
for (const [name, start, fs, action, want] of cases) {
  test(`env file rule: ${name}`, () => {
    const out = applyEnvFiles(Env.from(start), files(fs), action);
    assert.equal(out.has('VAR') ? out.get('VAR') : undefined, want);
  });
}

test('invalid variable names are ignored', () => {
  const out = applyEnvFiles(Env.empty(), files({ '.override': 'x', 'A=B': 'y', OK: 'z' }), 'override');
  assert.deepEqual(out.toRecord(), { OK: 'z' });
});

test('a delimiter applies only within its own directory', () => {
  const env = applyEnvFiles(Env.from({ VAR: 'a' }), files({ 'VAR.delim': ':' }), 'override');
  assert.equal(applyEnvFiles(env, files({ 'VAR.append': 'b' }), 'override').get('VAR'), 'ab');
});

// Buildpack spec "Environment Variable Modification Rules": applying directory after directory, in group
// order, layers ascending, env/ then env.launch/ then env.launch/<process>/, yields the spec's precedence.
test('precedence across buildpacks, layers and directories (spec rules)', () => {
  const dirs: [string, Record<string, string>][] = [
    ['bpA/layer1/env', { 'APP.append': 'A1', 'PRE.prepend': 'A1', 'DEF.default': 'A1', 'OVR.override': 'A1', 'APP.delim': ',', 'PRE.delim': ',' }],
    ['bpA/layer2/env', { 'APP.append': 'A2', 'PRE.prepend': 'A2', 'DEF.default': 'A2', 'OVR.override': 'A2', 'APP.delim': ',', 'PRE.delim': ',' }],
    ['bpB/layer1/env', { 'APP.append': 'B1e', 'PRE.prepend': 'B1e', 'DEF.default': 'B1e', OVR: 'B1e', 'APP.delim': ',', 'PRE.delim': ',' }],
    ['bpB/layer1/env.launch', { 'APP.append': 'B1l', 'PRE.prepend': 'B1l', 'DEF.default': 'B1l', OVR: 'B1l', 'APP.delim': ',', 'PRE.delim': ',' }],
    ['bpB/layer1/env.launch/web', { 'APP.append': 'B1w', 'PRE.prepend': 'B1w', 'DEF.default': 'B1w', OVR: 'B1w', 'APP.delim': ',', 'PRE.delim': ',' }],
  ];
  const env = dirs.reduce((e, [, fs]) => applyEnvFiles(e, files(fs), 'override'), Env.empty());
  assert.equal(env.get('APP'), 'A1,A2,B1e,B1l,B1w', 'append: earlier buildpacks, layers and directories first');
  assert.equal(env.get('PRE'), 'B1w,B1l,B1e,A2,A1', 'prepend: the reverse');
  assert.equal(env.get('DEF'), 'A1', 'default: the earliest wins');
  assert.equal(env.get('OVR'), 'B1w', 'override: the latest wins');
});
