import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandOrder, type GroupElement } from '../../../src/lifecycle/detect/expand.js';
import { withSystemBuildpacks } from '../../../src/lifecycle/detect/system.js';
import { LifecycleError } from '../../../src/lifecycle/exit-codes.js';
import type { OrderGroup } from '../../../src/lifecycle/files/module-ref.js';
import { composite, lookupOf, module, ref } from './fake-modules.js';

const letters = 'ABCDEFGH'.split('');
const components = letters.map((l) => module(l));
const O = composite('O', [[ref('A'), ref('B')], [ref('C'), ref('D')]]);
const P = composite('P', [[ref('E'), ref('F')], [ref('G'), ref('H')]]);

async function groups(order: OrderGroup[], mods = [...components, O, P], orderExt: OrderGroup[] = [], execEnv?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const g of expandOrder(order, orderExt, lookupOf(mods), { execEnv })) out.push(g.map(name).join(''));
  return out;
}
const name = (el: GroupElement) => `${el.module.kind === 'extension' ? 'x:' : ''}${el.module.id}${el.optional ? '?' : ''}`;
const order = (...gs: string[][]): OrderGroup[] => gs.map((g) => ({ group: g.map((id) => ref(id.replace('?', ''), { optional: id.endsWith('?') })) }));

test('spec "Order Resolution": [E, O, F] = [E,A,B,F], [E,C,D,F]', async () => {
  assert.deepEqual(await groups(order(['E', 'O', 'F'])), ['EABF', 'ECDF']);
});

test('spec "Order Resolution": [O, P] multiplies out depth-first, left to right', async () => {
  assert.deepEqual(await groups(order(['O', 'P'])), ['ABEF', 'ABGH', 'CDEF', 'CDGH']);
});

test('top-level groups in order; nested composites', async () => {
  const Q = composite('Q', [[ref('O'), ref('H')], [ref('G')]]);
  assert.deepEqual(await groups(order(['Q', 'E'], ['F']), [...components, O, P, Q]), ['ABHE', 'CDHE', 'GE', 'F']);
});

test('an optional composite is followed by the group without it; optional components stay in place', async () => {
  assert.deepEqual(await groups(order(['E', 'O?', 'F?'])), ['EABF?', 'ECDF?', 'EF?']);
  const R = composite('R', [[ref('A', { optional: true }), ref('B')]]);
  assert.deepEqual(await groups(order(['R']), [...components, R]), ['A?B'], 'optional inside a composite group');
});

test('an ID already in the candidate group is skipped (first occurrence wins)', async () => {
  const S = composite('S', [[ref('A'), ref('C')]]);
  assert.deepEqual(await groups(order(['A', 'S', 'A']), [...components, S]), ['AC']);
});

test('an extensions order is prepended as an optional nested order', async () => {
  const exts = ['X', 'Y'].map((id) => module(id, { kind: 'extension' }));
  const ext: OrderGroup[] = [{ group: [ref('X')] }, { group: [ref('Y')] }];
  assert.deepEqual(await groups(order(['A'], ['B']), [...components, ...exts], ext), ['x:X?A', 'x:Y?A', 'A', 'x:X?B', 'x:Y?B', 'B']);
});

test('exec-env: entries and modules excluded from the environment are skipped', async () => {
  const mods = [module('A', { execEnv: ['test'] }), module('B', { execEnv: ['*'] }), module('C'), module('D', { execEnv: ['test'], api: '0.11' })];
  const o: OrderGroup[] = [{ group: [ref('A'), ref('B'), ref('C', { execEnv: ['development'] }), ref('D')] }];
  assert.deepEqual(await groups(o, mods, [], 'production'), ['BD'], 'D is API 0.11: its exec-env is not honoured');
  assert.deepEqual(await groups(o, mods, [], 'test'), ['ABD']);
  assert.deepEqual(await groups(o, mods, [], undefined), ['ABCD'], 'no filtering without an exec env');
  assert.deepEqual(await groups([{ group: [ref('A')] }], mods, [], 'production'), [''], 'a group may be left empty');
});

test('modules are looked up lazily and once', async () => {
  const lookup = lookupOf([...components, O]);
  const it = expandOrder(order(['O'], ['E']), [], lookup);
  const first = await it.next();
  assert.deepEqual((first.value as GroupElement[]).map(name), ['A', 'B']);
  assert.deepEqual(lookup.calls, ['buildpack:O', 'buildpack:A', 'buildpack:B']);
  for await (const g of it) void g;
  assert.deepEqual(lookup.calls, ['buildpack:O', 'buildpack:A', 'buildpack:B', 'buildpack:C', 'buildpack:D', 'buildpack:E']);
});

test('an unsupported Buildpack API stops expansion with exit 12', async () => {
  await assert.rejects(groups(order(['A']), [module('A', { api: '0.9' })]), (e: unknown) => e instanceof LifecycleError && e.exitCode === 12 && /A@1\.0\.0/.test(e.message));
});

test('system buildpacks: pre and post around every group, skipping IDs already present; optional kept', () => {
  const merged = withSystemBuildpacks(order(['A', 'B'], ['C']), { pre: [ref('P1'), ref('B')], post: [ref('Z', { optional: true })] });
  assert.deepEqual(
    merged.map((g) => g.group.map((e) => `${e.id}${e.optional ? '?' : ''}`)),
    [
      ['P1', 'A', 'B', 'Z?'],
      ['P1', 'B', 'C', 'Z?'],
    ],
  );
});

test('reference "expands order-containing buildpack IDs": nested optional composite, versions, dedupe', async () => {
  const v = (id: string, version: string, o: Parameters<typeof module>[1] = {}) => module(id, { version, ...o });
  const r = (id: string, version: string, optional = false) => ref(id, { version, optional });
  const mods = [
    v('E', 'v1', { order: [{ group: [r('A', 'v1'), r('F', 'v1'), r('B', 'v1')] }] }),
    v('F', 'v1', { order: [{ group: [r('C', 'v1')] }, { group: [r('G', 'v1', true)] }, { group: [r('D', 'v1')] }] }),
    v('G', 'v1', { order: [{ group: [r('A', 'v2'), r('B', 'v2')] }, { group: [r('C', 'v2'), r('D', 'v2')] }] }),
    ...[['A', 'v1'], ['B', 'v1'], ['C', 'v1'], ['D', 'v1'], ['A', 'v2'], ['B', 'v2'], ['C', 'v2'], ['D', 'v2']].map(([id, ver]) => v(id!, ver!)),
  ];
  const out: string[] = [];
  for await (const g of expandOrder([{ group: [r('E', 'v1')] }], [], lookupOf(mods))) out.push(g.map((e) => `${e.module.id}${e.module.version}`).join(' '));
  assert.deepEqual(out, ['Av1 Cv1 Bv1', 'Av1 Bv2', 'Av1 Cv2 Dv2 Bv1', 'Av1 Bv1', 'Av1 Dv1 Bv1']);
});
