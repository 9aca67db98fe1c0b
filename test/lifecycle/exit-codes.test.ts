import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeFor, ExitCode, isValidExitCode, LifecycleError, outputTail, PHASE_EXIT_RANGES, phaseErrorCode, type Phase } from '../../src/lifecycle/exit-codes.js';
import { CairnError } from '../../src/oci/errors.js';

test('the table of digest §4.0', () => {
  assert.equal(ExitCode.incompatiblePlatformApi, 11);
  assert.equal(ExitCode.incompatibleBuildpackApi, 12);
  assert.equal(ExitCode.detectFailed, 20);
  assert.equal(ExitCode.detectErrored, 21);
  assert.equal(ExitCode.buildpackFailed, 51);
  const generic: [Phase, number][] = [
    ['detect', 22],
    ['analyze', 32],
    ['restore', 42],
    ['build', 52],
    ['export', 62],
    ['rebase', 72],
    ['launch', 82],
    ['generate', 92],
    ['extend', 102],
  ];
  for (const [phase, code] of generic) {
    assert.equal(phaseErrorCode(phase), code, phase);
    const [lo, hi] = PHASE_EXIT_RANGES[phase];
    assert.ok(code >= lo && code <= hi, `${phase} generic code inside its range`);
  }
});

test('valid exit codes per phase: generic, 11, 12 and the phase range only', () => {
  assert.ok(isValidExitCode('detect', 21));
  assert.ok(isValidExitCode('build', 11));
  assert.ok(isValidExitCode('build', 12));
  assert.ok(isValidExitCode('export', 1));
  assert.ok(!isValidExitCode('build', 21), 'a detect code is not a build code');
  assert.ok(!isValidExitCode('build', 0));
  assert.ok(!isValidExitCode('launch', 90));
  assert.ok(!isValidExitCode('launch', 1.5));
});

test('LifecycleError names phase and buildpack and shows the output tail', () => {
  const output = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const e = new LifecycleError('BUILDPACK_FAILED', 'bin/build exited with code 3', {
    phase: 'build',
    exitCode: ExitCode.buildpackFailed,
    buildpack: { id: 'example/node', version: '1.2.3' },
    output,
    hint: 'read the output',
  });
  assert.ok(e instanceof CairnError);
  assert.equal(e.code, 'BUILDPACK_FAILED');
  assert.equal(e.exitCode, 51);
  assert.equal(e.output, output, 'the full output is kept');
  assert.match(e.message, /^build: bin\/build exited with code 3 \(buildpack example\/node@1\.2\.3\)\n--- output ---\n/);
  assert.match(e.message, /line 99$/);
  assert.doesNotMatch(e.message, /line 59\n/, 'only the last 40 lines are repeated');
  assert.match(e.message, /\[…\]\nline 60\n/);
  assert.equal(exitCodeFor('build', e), 51);
  assert.equal(exitCodeFor('build', new Error('x')), 52);
  assert.equal(exitCodeFor('restore', new CairnError('IO', 'x')), 42);
});

test('no output section for empty output', () => {
  const e = new LifecycleError('LIFECYCLE_FAILED', 'x', { phase: 'export', exitCode: 62, output: '  \n' });
  assert.equal(e.message, 'export: x');
});

test('outputTail bounds characters as well as lines', () => {
  const t = outputTail('y'.repeat(20000));
  assert.ok(t.length < 8300 && t.startsWith('[…]\n'));
  assert.equal(outputTail('a\nb\n\n'), 'a\nb');
});
