import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBuildpackId, checkBuildpackVersion, checkExecEnvName, checkProcessType, escapeId } from '../../src/lifecycle/ids.js';

test('buildpack IDs (buildpack spec "The buildpack ID")', () => {
  for (const ok of ['io.buildpacks.ruby', 'example/node', 'paketo-buildpacks/node-engine', 'A.b-C/9']) assert.equal(checkBuildpackId(ok), undefined, ok);
  for (const bad of ['', 'app', 'config', 'generated', 'sbom', 'a b', 'a_b', 'a:b', 'é']) assert.ok(checkBuildpackId(bad), bad);
});

test('buildpack versions: X.Y.Z without leading zeros or v prefix', () => {
  for (const ok of ['0.0.1', '1.2.3', '10.20.30', '1.0.0-rc.1']) assert.equal(checkBuildpackVersion(ok), undefined, ok);
  for (const bad of ['1.2', '01.2.3', '1.02.3', 'v1.2.3', '1.2.3.4', '', 'latest', '=1.2.3']) assert.ok(checkBuildpackVersion(bad), bad);
});

test('process types, exec-env names, escaping', () => {
  for (const ok of ['web', 'worker-1', 'a.b_c']) assert.equal(checkProcessType(ok), undefined);
  for (const bad of ['', 'a/b', 'a b', 'a:b']) assert.ok(checkProcessType(bad), bad);
  assert.equal(checkExecEnvName('production'), undefined);
  assert.equal(checkExecEnvName('*'), undefined);
  assert.ok(checkExecEnvName('a/b'));
  assert.ok(checkExecEnvName(''));
  assert.equal(escapeId('paketo-buildpacks/node/x'), 'paketo-buildpacks_node_x');
});
