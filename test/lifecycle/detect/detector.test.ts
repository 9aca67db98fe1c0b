import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detect, detectFailureError, type DetectOptions, type DetectRunOutput } from '../../../src/lifecycle/detect/detector.js';
import type { ModuleInfo } from '../../../src/lifecycle/detect/module.js';
import { LifecycleError } from '../../../src/lifecycle/exit-codes.js';
import type { BuildPlan } from '../../../src/lifecycle/files/build-plan.js';
import type { OrderGroup } from '../../../src/lifecycle/files/module-ref.js';
import { composite, linuxAmd64, lookupOf, module, ref } from './fake-modules.js';

const plan = (provides: string[] = [], requires: string[] = [], or: BuildPlan['or'] = []): BuildPlan => ({
  provides: provides.map((name) => ({ name })),
  requires: requires.map((name) => ({ name, metadata: {} })),
  or,
});
const PASS = (p: BuildPlan = plan()): DetectRunOutput => ({ code: 0, output: '', plan: p });
const FAIL: DetectRunOutput = { code: 100, output: 'not a node app\n' };

/** A runner answering from a table by id, recording calls. */
function runner(table: Record<string, DetectRunOutput | Error>) {
  const calls: string[] = [];
  const run = async (m: ModuleInfo): Promise<DetectRunOutput> => {
    calls.push(m.id);
    const r = table[m.id];
    if (r === undefined) throw new Error(`unexpected detect of ${m.id}`);
    if (r instanceof Error) throw r;
    return r;
  };
  return { run, calls };
}

const jammy = { os: 'linux', arch: 'amd64', distro: { name: 'ubuntu', version: '22.04' } };
const orderOf = (...gs: (string | [string, boolean])[][]): OrderGroup[] =>
  gs.map((g) => ({ group: g.map((x) => (typeof x === 'string' ? ref(x) : ref(x[0], { optional: x[1] }))) }));

function opts(mods: ModuleInfo[], order: OrderGroup[], run: DetectOptions['run'], extra: Partial<DetectOptions> = {}): DetectOptions {
  return { order, lookup: lookupOf(mods), run, target: jammy, ...extra };
}

test('first passing group wins; group.toml + plan.toml data; optional failures drop out', async () => {
  const mods = ['node', 'npm', 'yarn', 'procfile'].map((id) => module(id, { homepage: id === 'node' ? 'https://n' : undefined }));
  const r = runner({
    node: PASS(plan(['node'], [], [])),
    yarn: FAIL,
    npm: PASS(plan(['node_modules'], ['node', 'node_modules'])),
    procfile: FAIL,
  });
  const res = await detect(opts(mods, orderOf(['node', 'yarn']), r.run));
  assert.equal(res.ok, false, 'yarn is required and failed');
  const res2 = await detect(opts(mods, orderOf(['node', 'yarn'], ['node', 'npm', ['procfile', true]]), r.run));
  assert.ok(res2.ok);
  assert.deepEqual(res2.group, {
    group: [
      { id: 'node', version: '1.0.0', api: '0.12', homepage: 'https://n' },
      { id: 'npm', version: '1.0.0', api: '0.12', homepage: undefined },
    ],
    groupExtensions: [],
  });
  assert.deepEqual(res2.plan.entries, [
    { providers: [{ id: 'node', version: '1.0.0', extension: false }], requires: [{ name: 'node', metadata: {} }] },
    { providers: [{ id: 'npm', version: '1.0.0', extension: false }], requires: [{ name: 'node_modules', metadata: {} }] },
  ]);
  assert.deepEqual(
    res2.attempts.map((a) => [a.result, a.elements.map((e) => `${e.id}:${e.status}`).join(' ')]),
    [
      ['fail', 'node:pass yarn:fail'],
      ['pass', 'node:pass npm:pass procfile:fail'],
    ],
  );
});

test('detect runs once per module across groups', async () => {
  const mods = ['a', 'b', 'c'].map((id) => module(id));
  const r = runner({ a: PASS(), b: FAIL, c: PASS() });
  const res = await detect(opts(mods, orderOf(['a', 'b'], ['a', 'b', 'c'], ['a', 'c']), r.run));
  assert.ok(res.ok);
  assert.deepEqual([...r.calls].sort(), ['a', 'b', 'c']);
  assert.deepEqual(res.group.group.map((g) => g.id), ['a', 'c']);
});

test('all groups fail without errors → exit 20', async () => {
  const mods = ['a', 'b'].map((id) => module(id));
  const res = await detect(opts(mods, orderOf(['a'], ['b']), runner({ a: FAIL, b: FAIL }).run));
  assert.ok(!res.ok);
  assert.equal(res.exitCode, 20);
  const e = detectFailureError(res);
  assert.ok(e instanceof LifecycleError);
  assert.equal(e.exitCode, 20);
  assert.equal(e.phase, 'detect');
  assert.match(e.message, /^detect: no buildpack group passed detection: a@1\.0\.0 did not detect \(exit 100\); b@1\.0\.0 did not detect \(exit 100\)$/m);
  assert.match(e.message, /======== a@1\.0\.0: exit 100 ========\n/, 'the output of buildpacks that did not detect is shown too');
});

test('a buildpack error (exit code or exception) → exit 21 with its output', async () => {
  const mods = ['a', 'b', 'c'].map((id) => module(id));
  const res = await detect(opts(mods, orderOf(['a'], ['b'], ['c']), runner({ a: { code: 1, output: 'boom: missing file\n' }, b: FAIL, c: new Error('spawn EACCES') }).run));
  assert.ok(!res.ok);
  assert.equal(res.exitCode, 21);
  assert.deepEqual(
    res.runs.map((x) => [x.id, x.status, x.code]),
    [
      ['a', 'error', 1],
      ['b', 'fail', 100],
      ['c', 'error', -1],
    ],
  );
  const e = detectFailureError(res);
  assert.equal(e.exitCode, 21);
  assert.match(e.message, /a@1\.0\.0 errored \(exit 1\); b@1\.0\.0 did not detect \(exit 100\); c@1\.0\.0 errored/);
  assert.match(e.message, /======== a@1\.0\.0: exit 1 ========\nboom: missing file/);
  assert.match(e.message, /spawn EACCES/);
  assert.match(e.output ?? '', /boom/);
});

test('an errored optional buildpack counts only when its group fails (reference)', async () => {
  const mods = ['a', 'b', 'c'].map((id) => module(id));
  const passingGroup = await detect(opts(mods, orderOf([['a', true], 'b']), runner({ a: { code: 3, output: '' }, b: PASS() }).run));
  assert.ok(passingGroup.ok, 'an optional error does not fail a group');
  const failed = await detect(opts(mods, orderOf([['a', true], 'c']), runner({ a: { code: 3, output: '' }, c: FAIL }).run));
  assert.ok(!failed.ok);
  assert.equal(failed.exitCode, 21);
  const noBuildpack = await detect(opts(mods, orderOf([['a', true], ['b', true]]), runner({ a: { code: 3, output: '' }, b: FAIL }).run));
  assert.ok(!noBuildpack.ok);
  assert.equal(noBuildpack.exitCode, 20, 'no required failure: "no buildpack passed" is a plain failure');
  assert.equal(noBuildpack.attempts[0]!.reason, 'no buildpack passed');
});

test('a group whose plan cannot resolve fails; the next group is tried', async () => {
  const mods = ['a', 'b'].map((id) => module(id));
  const r = runner({ a: PASS(plan([], ['missing'])), b: PASS(plan(['x'], ['x'])) });
  const res = await detect(opts(mods, orderOf(['a'], ['b']), r.run));
  assert.ok(res.ok);
  assert.equal(res.attempts[0]!.result, 'fail');
  assert.match(res.attempts[0]!.reason ?? '', /build plans/);
  assert.deepEqual(res.group.group.map((g) => g.id), ['b']);
});

test('targets: a required mismatch errors the group; an optional mismatch is skipped without running', async () => {
  const arm = { os: 'linux', arch: 'arm64', variant: '', distros: [] };
  const mods = [module('a', { targets: [arm] }), module('b', { targets: [linuxAmd64] }), module('c', { targets: [{ ...linuxAmd64, distros: [{ name: 'ubuntu', version: '22.04' }] }] })];
  const r = runner({ a: PASS(), b: PASS(), c: PASS() });
  const res = await detect(opts(mods, orderOf(['a', 'b'], [['a', true], 'b', 'c']), r.run));
  assert.ok(res.ok);
  assert.deepEqual(r.calls.sort(), ['b', 'c'], 'a never runs');
  assert.equal(res.attempts[0]!.result, 'error');
  assert.deepEqual(res.attempts[1]!.elements.map((e) => e.status), ['skip', 'pass', 'pass']);
  const only = await detect(opts(mods, orderOf(['a']), r.run));
  assert.ok(!only.ok);
  assert.equal(only.exitCode, 21);
  assert.match(detectFailureError(only).message, /unable to satisfy target os\/arch constraints/);
});

test('composites expand; exec-env skips; extensions go to group-extensions and plan providers', async () => {
  const ext = module('apt', { kind: 'extension' });
  const mods = [module('a', { execEnv: ['test'] }), module('b'), composite('comp', [[ref('a'), ref('b')]]), ext];
  const r = runner({ a: PASS(), b: PASS(plan([], ['curl'])), apt: PASS(plan(['curl'])) });
  const res = await detect(opts(mods, orderOf(['comp']), r.run, { orderExtensions: [{ group: [ref('apt')] }], execEnv: 'production' }));
  assert.ok(res.ok);
  assert.deepEqual(res.group.group.map((g) => g.id), ['b']);
  assert.deepEqual(res.group.groupExtensions.map((g) => g.id), ['apt']);
  assert.deepEqual(res.plan.entries[0]!.providers, [{ id: 'apt', version: '1.0.0', extension: true }]);
  assert.ok(!r.calls.includes('a'), 'a is not for production');
});

test('extensions alone do not make a group pass; an extension writing requires errors', async () => {
  const ext = module('apt', { kind: 'extension' });
  const mods = [module('b'), ext];
  const onlyExt = await detect(opts(mods, orderOf(['b']), runner({ b: FAIL, apt: PASS() }).run, { orderExtensions: [{ group: [ref('apt')] }] }));
  assert.ok(!onlyExt.ok);
  const bad = await detect(opts(mods, orderOf(['b']), runner({ b: PASS(), apt: PASS(plan([], ['x'])) }).run, { orderExtensions: [{ group: [ref('apt')] }] }));
  assert.ok(bad.ok, 'the extension is optional: the group without it passes');
  assert.deepEqual(bad.group.groupExtensions, []);
  assert.match(bad.runs.find((x) => x.id === 'apt')!.error ?? '', /outputs "requires"/);
});

test('concurrency limit is respected', async () => {
  const ids = Array.from({ length: 8 }, (_, i) => `bp${i}`);
  let inFlight = 0;
  let max = 0;
  const run = async (): Promise<DetectRunOutput> => {
    inFlight++;
    max = Math.max(max, inFlight);
    await new Promise((res) => setTimeout(res, 5));
    inFlight--;
    return PASS();
  };
  const res = await detect(opts(ids.map((id) => module(id)), orderOf(ids), run, { concurrency: 3 }));
  assert.ok(res.ok);
  assert.equal(max, 3);
});

test('later groups run ahead, yet results, attempts and runs are those of sequential detection', async () => {
  const mods = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => module(id));
  const events: string[] = [];
  const aborted: string[] = [];
  const run = async (m: ModuleInfo, signal: AbortSignal): Promise<DetectRunOutput> => {
    events.push(`start ${m.id}`);
    const ms = { a: 30, b: 80, c: 5, d: 500, e: 5, f: 5 }[m.id]!;
    await new Promise<void>((res) => {
      const onAbort = () => {
        clearTimeout(t);
        aborted.push(m.id);
        res();
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        res();
      }, ms);
      signal.addEventListener('abort', onAbort);
    });
    events.push(`end ${m.id}`);
    if (m.id === 'c') return { code: 1, output: 'c broke\n' }; // an error in a group never tried
    return m.id === 'b' ? PASS() : FAIL;
  };
  // [a] fails; [b] passes; the groups after it are never tried.
  const res = await detect(opts(mods, orderOf(['a'], ['b'], ['c'], ['d'], ['e'], ['f']), run, { concurrency: 4 }));
  assert.ok(res.ok);
  assert.deepEqual(res.group.group.map((g) => g.id), ['b']);
  assert.deepEqual(events.slice(0, 4), ['start a', 'start b', 'start c', 'start d'], 'the next groups started while [a] ran');
  assert.ok(events.includes('start e'), `[e] is within LOOKAHEAD (3) of [b]: ${events.join(', ')}`);
  assert.ok(!events.includes('start f'), `[f] is not: ${events.join(', ')}`);
  assert.deepEqual(res.runs.map((r) => `${r.id}:${r.status}`), ['a:fail', 'b:pass'], 'only the groups tried are reported');
  assert.deepEqual(res.attempts.map((a) => a.result), ['fail', 'pass']);
  assert.deepEqual(aborted, ['d'], 'the run still going when [b] passed was aborted');
  assert.ok(events.includes('end d'), 'and awaited before detect returned');
});

test('an expansion error in a group never tried does not fail detection; it does when reached', async () => {
  const mods = ['a', 'b'].map((id) => module(id));
  const r = runner({ a: PASS(), b: FAIL });
  const ok = await detect(opts(mods, orderOf(['a'], ['missing']), r.run));
  assert.ok(ok.ok);
  await assert.rejects(detect(opts(mods, orderOf(['b'], ['missing']), r.run)), /missing/);
});

test('queued runs are dropped without starting once a group passes', async () => {
  const ids = ['a', 'b', 'c', 'd'];
  const calls: string[] = [];
  const run = async (m: ModuleInfo): Promise<DetectRunOutput> => {
    calls.push(m.id);
    await new Promise((res) => setTimeout(res, 10));
    return PASS();
  };
  const res = await detect(opts(ids.map((id) => module(id)), orderOf(['a'], ['b'], ['c'], ['d']), run, { concurrency: 1 }));
  assert.ok(res.ok);
  assert.deepEqual(calls, ['a'], 'b, c, d were queued behind a and never started');
});
