/**
 * `cairn image …` reports bad input in one or two lines (error + hint) with a non-zero exit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCairn } from '../helpers/cli.js';

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 'cairn-cli-'));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

function assertShortError(r: { code: number; stderr: string; stdout: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, 'exit status must be non-zero');
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length >= 1 && lines.length <= 2, `one or two lines, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /    at /, 'no stack trace without --verbose');
}

test('unknown transport', async () => {
  const r = await runCairn(['image', 'copy', 'ftp:/x/y', 'oci:/tmp/z:t'], { env: { CAIRN_HOME: home } });
  assertShortError(r, /unknown transport "ftp:"/);
  assert.equal(r.code, 2);
});

test('malformed reference', async () => {
  const r = await runCairn(['image', 'inspect', 'Bad/Name:x'], { env: { CAIRN_HOME: home } });
  assertShortError(r, /invalid image reference "Bad\/Name:x".*lowercase/);
  assert.match(r.stderr, /^hint: /m);
});

test('missing tag in the local store names the image', async () => {
  const r = await runCairn(['image', 'inspect', 'nothing-here:v9'], { env: { CAIRN_HOME: home } });
  assertShortError(r, /nothing-here:v9/);
  assert.equal(r.code, 1);
});

test('unreachable registry host names the host', async () => {
  // A port that was just free: nothing listens there.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const r = await runCairn(['image', 'inspect', `127.0.0.1:${port}/a/b:t`, '--insecure-registry', `127.0.0.1:${port}`], { env: { CAIRN_HOME: home } });
  assertShortError(r, new RegExp(`127\\.0\\.0\\.1:${port}`));
});

test('401 names the registry', async () => {
  const srv = createServer((req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    const r = await runCairn(['image', 'inspect', `127.0.0.1:${port}/a/b:t`, '--insecure-registry', `127.0.0.1:${port}`], {
      env: { CAIRN_HOME: home, DOCKER_CONFIG: join(home, 'no-docker-config') },
    });
    assertShortError(r, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(r.stderr, /401|unauthori[sz]ed|authentication/i);
  } finally {
    srv.close();
  }
});

test('unknown flag is a usage error', async () => {
  const r = await runCairn(['image', 'copy', '--frobnicate', 'a', 'b'], { env: { CAIRN_HOME: home } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
});

test('--verbose adds the code and stack', async () => {
  const r = await runCairn(['image', 'inspect', 'nothing-here:v9', '--verbose'], { env: { CAIRN_HOME: home } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /code: MANIFEST_NOT_FOUND/);
  assert.match(r.stderr, /    at /);
});
