import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBuildPlan, serializeBuildPlan } from '../../../src/lifecycle/files/build-plan.js';
import { parseBuildpackPlan, serializeBuildpackPlan } from '../../../src/lifecycle/files/buildpack-plan.js';
import { checkUnmet, metNames, parseBuildToml, serializeBuildToml } from '../../../src/lifecycle/files/build-toml.js';
import { buildpackPlanFor, parsePlanToml, serializePlanToml, withoutMet, type PlanToml } from '../../../src/lifecycle/files/plan-toml.js';
import { isCairnError } from '../../../src/oci/errors.js';

const rejects = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(isCairnError(e, 'INVALID_LIFECYCLE_FILE'), String(e));
    assert.match((e as Error).message, re);
    return true;
  });

test('build plan with [[or]] (digest §2.4 example)', () => {
  const p = parseBuildPlan(`
provides = [ { name = "node" } ]
requires = [ { name = "node", metadata = { version = "18.x" } } ]
[[or]]
provides = [ { name = "node" } ]
requires = [ { name = "node" } ]
[[or]]
[[or.requires]]
name = "yarn"
[or.requires.metadata]
launch = true
`);
  assert.deepEqual(p, {
    provides: [{ name: 'node' }],
    requires: [{ name: 'node', metadata: { version: '18.x' } }],
    or: [
      { provides: [{ name: 'node' }], requires: [{ name: 'node', metadata: {} }] },
      { provides: [], requires: [{ name: 'yarn', metadata: { launch: true } }] },
    ],
  });
  assert.deepEqual(parseBuildPlan(serializeBuildPlan(p)), p);
  assert.deepEqual(parseBuildPlan(''), { provides: [], requires: [], or: [] }, 'the pre-created empty file');
});

test('build plan: top-level version rejected (reference), also inside [[or]]; names required', () => {
  rejects(() => parseBuildPlan('requires = [ { name = "node", version = "18" } ]', '/tmp/plan.toml'), /^invalid \/tmp\/plan\.toml: requires\[0\]\.version: a top-level "version" is not supported/);
  rejects(() => parseBuildPlan('[[or]]\nrequires = [ { name = "node", version = "18", metadata = { version = "18" } } ]'), /or\[0\]\.requires\[0\]\.version/);
  rejects(() => parseBuildPlan('provides = [ { } ]'), /provides\[0\]\.name: is required/);
  assert.deepEqual(parseBuildPlan('requires = [ { name = "n", version = "" } ]').requires, [{ name: 'n', metadata: {} }], 'an empty version is tolerated, as in the reference');
});

test('build plan of an extension: provides only', () => {
  assert.deepEqual(parseBuildPlan('provides = [ { name = "tool" } ]', 'plan.toml', { extension: true }).provides, [{ name: 'tool' }]);
  rejects(() => parseBuildPlan('[[or]]\nrequires = [ { name = "x" } ]', 'plan.toml', { extension: true }), /or\[0\]\.requires: an image extension may only write "provides"/);
});

test('buildpack plan round trip', () => {
  const p = parseBuildpackPlan('[[entries]]\nname = "node"\n[entries.metadata]\nversion = "18.x"\n[[entries]]\nname = "npm"\n');
  assert.deepEqual(p, { entries: [{ name: 'node', metadata: { version: '18.x' } }, { name: 'npm', metadata: {} }] });
  assert.deepEqual(parseBuildpackPlan(serializeBuildpackPlan(p)), p);
  assert.equal(serializeBuildpackPlan({ entries: [] }), 'entries = []\n');
});

const PLAN = `
[[entries]]
providers = [ { id = "example/node", version = "1.2.3" } ]
requires = [ { name = "node", metadata = { version = "18.x" } }, { name = "node", metadata = { launch = true } } ]
[[entries]]
providers = [ { id = "example/npm", version = "0.1.0" }, { id = "example/apt", version = "0.1.0", extension = true } ]
requires = [ { name = "npm" } ]
[[entries]]
providers = [ { id = "example/node", version = "1.2.3" }, { id = "example/yarn", version = "0.2.0" } ]
requires = [ { name = "yarn" } ]
`;

test('plan.toml parse, validate, round trip', () => {
  const p = parsePlanToml(PLAN);
  assert.equal(p.entries.length, 3);
  assert.deepEqual(p.entries[1]!.providers, [
    { id: 'example/npm', version: '0.1.0', extension: false },
    { id: 'example/apt', version: '0.1.0', extension: true },
  ]);
  assert.deepEqual(parsePlanToml(serializePlanToml(p)), p);
  assert.deepEqual(parsePlanToml(''), { entries: [] }, 'entries may be empty');
  rejects(() => parsePlanToml('[[entries]]\nrequires = [ { name = "x" } ]'), /entries\[0\]\.providers: an entry needs at least one provider/);
  rejects(() => parsePlanToml('[[entries]]\nproviders = [ { id = "a", version = "1.0.0" } ]'), /entries\[0\]\.requires: an entry needs at least one require/);
  rejects(() => parsePlanToml('[[entries]]\nproviders = [ { id = "a", version = "1.0.0" } ]\nrequires = [ { name = "x" }, { name = "y" } ]'), /entries\[0\]\.requires\[1\]\.name: "y" differs from "x"/);
});

test('buildpack plan of a provider and filtering met entries (reference Plan.Find / Filter)', () => {
  const p: PlanToml = parsePlanToml(PLAN);
  assert.deepEqual(
    buildpackPlanFor(p, 'example/node').entries.map((e) => [e.name, e.metadata]),
    [
      ['node', { version: '18.x' }],
      ['node', { launch: true }],
      ['yarn', {}],
    ],
  );
  assert.deepEqual(buildpackPlanFor(p, 'example/apt').entries, [], 'extension providers only match extension lookups');
  assert.deepEqual(buildpackPlanFor(p, 'example/apt', true).entries.map((e) => e.name), ['npm']);

  // node meets "node" but leaves "yarn" unmet: yarn stays for example/yarn.
  const bt = parseBuildToml('[[unmet]]\nname = "yarn"\n');
  const nodePlan = buildpackPlanFor(p, 'example/node');
  checkUnmet(bt, nodePlan);
  assert.deepEqual(metNames(bt, nodePlan), ['node', 'node']);
  const rest = withoutMet(p, metNames(bt, nodePlan));
  assert.deepEqual(rest.entries.map((e) => e.requires[0]!.name), ['npm', 'yarn']);
  assert.deepEqual(buildpackPlanFor(rest, 'example/yarn').entries.map((e) => e.name), ['yarn']);
  assert.deepEqual(withoutMet(rest, ['yarn']).entries.map((e) => e.requires[0]!.name), ['npm']);
});

test('build.toml: unmet names must be plan entries', () => {
  const plan = { entries: [{ name: 'node', metadata: {} }] };
  const b = parseBuildToml('[[unmet]]\nname = "python"\n');
  rejects(() => checkUnmet(b, plan, '/layers/a/build.toml'), /^invalid \/layers\/a\/build\.toml: unmet\[0\]\.name: "python" is not an entry/);
  rejects(() => parseBuildToml('[[unmet]]\nname = ""\n'), /unmet\[0\]\.name: is required/);
  rejects(() => parseBuildToml('[[bom]]\nname = "x"\nversion = "1"\n'), /bom\[0\]\.version/);
  const ok = parseBuildToml('[[unmet]]\nname = "node"\n[[bom]]\nname = "dep"\n[bom.metadata]\nversion = "1"\n');
  assert.deepEqual(ok, { unmet: ['node'], bom: [{ name: 'dep', metadata: { version: '1' } }] });
  assert.deepEqual(parseBuildToml(serializeBuildToml(ok)), ok);
  assert.deepEqual(parseBuildToml(''), { unmet: [], bom: [] });
});
