import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TRIALS, resolvePlan, type PlanElement } from '../../../src/lifecycle/detect/resolve-plan.js';
import type { PlanSections } from '../../../src/lifecycle/files/build-plan.js';

interface El extends PlanElement {
  id: string;
}

const sec = (provides: string[] = [], requires: string[] = []): PlanSections => ({ provides: provides.map((name) => ({ name })), requires: requires.map((name) => ({ name, metadata: { by: 'x' } })) });
const el = (id: string, top: PlanSections, or: PlanSections[] = [], optional = false): El => ({ id, optional, plan: { ...top, or } });
const summary = (r: ReturnType<typeof resolvePlan<El>>) =>
  r && { selected: r.selected.map((e) => e.id), entries: r.entries.map((e) => [e.name, e.providers.map((p) => p.id), e.requires.length]), trial: r.trial };

// The cases below are the reference lifecycle's resolver tests (phase/detector_test.go ".Resolve"), with only
// the passing elements given.
test('returns a build plan with matched dependencies', () => {
  const r = resolvePlan([
    el('A', sec(['dep1', 'dep2'], ['dep2'])),
    el('C', sec(['dep1', 'dep2'])),
    el('D', sec(['dep2'], ['dep1', 'dep2'])),
    el('B', sec([], ['dep1', 'dep2'])),
  ]);
  assert.deepEqual(summary(r), {
    selected: ['A', 'C', 'D', 'B'],
    entries: [
      ['dep1', ['A', 'C'], 2],
      ['dep2', ['A', 'C', 'D'], 3],
    ],
    trial: 1,
  });
  assert.deepEqual(r!.entries[0]!.requires[0], { name: 'dep1', metadata: { by: 'x' } });
});

test('fails if all requires are not provided first', () => {
  assert.equal(resolvePlan([el('B', sec([], ['dep1'])), el('C', sec(['dep1'], ['dep1']))]), undefined);
});

test('fails if all provides are not required after', () => {
  assert.equal(resolvePlan([el('A', sec(['dep1'], ['dep1'])), el('B', sec(['dep1']))]), undefined);
});

test('succeeds if unmet provides/requires are optional', () => {
  const r = resolvePlan([el('A', sec([], ['dep-missing']), [], true), el('B', sec(['dep-present'], ['dep-present'])), el('C', sec(['dep-missing']), [], true)]);
  assert.deepEqual(summary(r), { selected: ['B'], entries: [['dep-present', ['B'], 1]], trial: 1 });
});

test('falls back to alternate build plans (succeeds on try #16)', () => {
  const r = resolvePlan([
    el('A', sec(['dep2-missing']), [sec(['dep1-present'])], true),
    el('B', sec([], ['dep3-missing']), [sec([], ['dep1-present'])], true),
    el('C', sec(['dep5-missing'], ['dep4-missing']), [sec(['dep6-present'], ['dep6-present'])]),
    el('D', sec(['dep8-missing'], ['dep7-missing']), [sec(['dep10-missing'], ['dep9-missing'])], true),
  ]);
  assert.deepEqual(summary(r), {
    selected: ['A', 'B', 'C'],
    entries: [
      ['dep1-present', ['A'], 1],
      ['dep6-present', ['C'], 1],
    ],
    trial: 16,
  });
});

test('an optional element is optional only on its last option', () => {
  // A's first option provides an unused name: not droppable there, so that trial fails; its last option is.
  const r = resolvePlan([el('A', sec(['unused']), [sec(['also-unused'])], true), el('B', sec(['x'], ['x']))]);
  assert.deepEqual(summary(r), { selected: ['B'], entries: [['x', ['B'], 1]], trial: 2 });
  // With a single option, the optional element is droppable at once.
  assert.equal(resolvePlan([el('A', sec(['unused']), [], true), el('B', sec(['x'], ['x']))])!.trial, 1);
});

test('requires are met by the same or an earlier element only', () => {
  assert.ok(resolvePlan([el('A', sec(['n'], ['n']))]), 'same element');
  assert.equal(resolvePlan([el('A', sec([], ['n'])), el('B', sec(['n'], ['n']))]), undefined, 'a later provider does not count');
});

test('a provide stays pending until a later require; providers accumulate', () => {
  const r = resolvePlan([el('A', sec(['n'])), el('B', sec([], ['n'])), el('C', sec(['n'])), el('D', sec([], ['n']))]);
  assert.deepEqual(summary(r)?.entries, [['n', ['A', 'C'], 2]]);
  assert.equal(resolvePlan([el('A', sec(['n'], ['n'])), el('B', sec(['n']))]), undefined, 'a provide after the last require is unused');
});

test('dropping an optional element can unsatisfy another: repeat until stable', () => {
  // C (optional) requires "lib" that only optional B provides; B requires "tool" that nobody provides.
  const r = resolvePlan([el('A', sec(['app'], ['app'])), el('B', sec(['lib'], ['tool']), [], true), el('C', sec([], ['lib']), [], true)]);
  assert.deepEqual(summary(r), { selected: ['A'], entries: [['app', ['A'], 1]], trial: 1 });
  // Same but C is required: it fails once B is dropped.
  assert.equal(resolvePlan([el('A', sec(['app'], ['app'])), el('B', sec(['lib'], ['tool']), [], true), el('C', sec([], ['lib']))]), undefined);
});

test('a trial with no elements left fails; empty plans pass', () => {
  assert.equal(resolvePlan([el('A', sec(['x']), [], true)]), undefined);
  assert.equal(resolvePlan([]), undefined);
  assert.deepEqual(summary(resolvePlan([el('A', sec()), el('B', sec())])), { selected: ['A', 'B'], entries: [], trial: 1 });
});

test('trial enumeration is bounded', () => {
  const wide = Array.from({ length: 300 }, () => sec(['never']));
  const els = Array.from({ length: 3 }, (_, i) => el(`E${i}`, sec(['never']), wide));
  assert.ok(301 ** 3 > MAX_TRIALS);
  const t0 = Date.now();
  assert.equal(resolvePlan(els), undefined);
  assert.ok(Date.now() - t0 < 10_000);
});
