/**
 * `--registry-timeout SECONDS`: a registry that accepts connections and never answers is cut off after that
 * long (each try), retried, and reported as timed out; a value that is not a number of seconds is a usage error.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCairn } from '../helpers/cli.js';
import { CountingProxy } from '../helpers/counting-proxy.js';

test('a registry that never answers times out after --registry-timeout, each of the retries', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cairn-timeout-'));
  const silent = await CountingProxy.start('127.0.0.1:9', { onRequest: () => ({ stall: true }) });
  try {
    const env = { CAIRN_HOME: home };
    const t0 = Date.now();
    const r = await runCairn(['image', 'copy', `${silent.host}/team/app:v1`, 'app:v1', '--insecure-registry', silent.host, '--registry-timeout', '0.5'], { env, timeoutMs: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: GET .*cannot reach registry 127\.0\.0\.1:\d+ \(timed out\)$/m);
    assert.equal(silent.records.length, 5, 'five tries (the default retry budget)');
    assert.ok(seconds >= 2.5 && seconds < 30, `gave up after ${seconds} s`);

    const bad = await runCairn(['image', 'copy', `${silent.host}/team/app:v1`, 'app:v1', '--registry-timeout', 'soon'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: --registry-timeout "soon" is not a number of seconds/m);
  } finally {
    await silent.stop();
    await rm(home, { recursive: true, force: true });
  }
});
