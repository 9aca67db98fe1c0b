/**
 * NODE_EXTRA_CA_CERTS through `bin/cairn`: Node.js does not parse the file at start-up (bin/cairn hands it over
 * under another name), yet cairn's registry client trusts it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { runCairn } from '../helpers/cli.js';
import { startDockerRegistry } from '../helpers/docker-registry.js';
import { makeTestImage } from '../helpers/make-image.js';
import { needTool } from '../helpers/tools.js';

const IGNORING = /Ignoring extra certs from `[^`]*`, load failed/g;

test('an unreadable NODE_EXTRA_CA_CERTS is reported once, by cairn: Node.js did not read it at start-up', async () => {
  const missing = join(tmpdir(), 'cairn-no-such-ca.pem');
  // The control: Node.js itself reads the variable when it starts, and says so.
  const control = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: missing }, encoding: 'utf8' });
  assert.equal(control.stderr.match(IGNORING)?.length, 1, `node's own warning: ${control.stderr}`);

  const r = await runCairn(['--version'], { env: { NODE_EXTRA_CA_CERTS: missing } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.match(IGNORING)?.length, 1, `one warning, cairn's: ${r.stderr}`);
  assert.match(r.stderr, /ENOENT/, 'the warning is cairn\'s (Node.js names an OpenSSL error)');
});

test('a registry whose CA is only in NODE_EXTRA_CA_CERTS is trusted; without the variable it is not', async (t) => {
  if (!needTool(t, 'docker-registry', 'openssl')) return;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-extra-ca-'));
  const reg = await startDockerRegistry({ tls: true });
  try {
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, reg.caPem!);
    await makeTestImage(await openLayoutStore(join(dir, 'layout'), { create: true }), 'v1');
    const env = { CAIRN_HOME: join(dir, 'home') };
    const copy = ['image', 'copy', `oci:${join(dir, 'layout')}:v1`, `${reg.host}/team/app:v1`];
    const trusted = await runCairn(copy, { env: { ...env, NODE_EXTRA_CA_CERTS: caFile } });
    assert.equal(trusted.code, 0, trusted.stderr);
    const untrusted = await runCairn(copy, { env: { ...env, NODE_EXTRA_CA_CERTS: undefined } });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /--ca-cert/);
  } finally {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
