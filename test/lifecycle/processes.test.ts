import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcessEntry } from '../../src/lifecycle/files/launch-toml.js';
import { mergeProcesses } from '../../src/lifecycle/processes.js';

const p = (type: string, cmd: string, isDefault = false): ProcessEntry => ({ type, command: [cmd], args: [], default: isDefault, execEnv: [] });

test('later buildpacks replace processes of the same type; sorted by type; the last default wins', () => {
  const m = mergeProcesses([
    { buildpackId: 'a', processes: [p('web', 'a-web', true), p('worker', 'a-worker')] },
    { buildpackId: 'b', processes: [p('cli', 'b-cli'), p('worker', 'b-worker', true)] },
  ]);
  assert.deepEqual(
    m.processes.map((x) => [x.type, x.command[0], x.buildpackId, x.direct]),
    [
      ['cli', 'b-cli', 'b', true],
      ['web', 'a-web', 'a', true],
      ['worker', 'b-worker', 'b', true],
    ],
  );
  assert.equal(m.defaultType, 'worker');
  assert.deepEqual(m.warnings, []);
});

test('redefining the default type without default = true leaves no default (spec), with a warning', () => {
  const m = mergeProcesses([
    { buildpackId: 'a', processes: [p('web', 'a', true)] },
    { buildpackId: 'b', processes: [p('web', 'b')] },
  ]);
  assert.equal(m.defaultType, undefined);
  assert.equal(m.processes[0]!.command[0], 'b');
  assert.match(m.warnings[0]!, /buildpack b redefines the default process type "web"/);
});
