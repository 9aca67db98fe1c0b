/**
 * trustingFetch: GETs over HTTPS trusting the CA file NODE_EXTRA_CA_CERTS names (read by cairn, not by
 * Node.js at start-up), follows redirects, gives statuses and bodies as fetch does; trustContext adds to
 * Node.js's CA list only when there is something to add.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { trustContext } from '../../src/oci/tls-trust.js';
import { trustingFetch } from '../../src/platform/trusting-fetch.js';
import { makeTestCertificates } from '../helpers/docker-registry.js';

let dir: string;
let server: Server;
let base: string;
let caFile: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-trusting-fetch-'));
  const certs = makeTestCertificates(dir);
  caFile = certs.caCert;
  server = createServer({ cert: await readFile(certs.cert), key: await readFile(certs.key) }, (req, res) => {
    if (req.url === '/file') res.writeHead(200, { 'content-type': 'text/plain', 'x-served': 'yes' }).end('hello over TLS');
    else if (req.url === '/moved') res.writeHead(302, { location: '/file' }).end();
    else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
    else if (req.url === '/nothing') res.writeHead(204).end();
    else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 5_000);
    else res.writeHead(404).end('not here');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

test('a server whose CA is in the NODE_EXTRA_CA_CERTS file is trusted; redirects are followed', async () => {
  const fetch = trustingFetch({ NODE_EXTRA_CA_CERTS: caFile });
  const res = await fetch(`${base}/moved`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-served'), 'yes');
  assert.equal(await res.text(), 'hello over TLS');
  const missing = await fetch(`${base}/elsewhere`);
  assert.equal(missing.status, 404);
  assert.equal(missing.ok, false);
  assert.equal(await missing.text(), 'not here');
  const empty = await fetch(`${base}/nothing`);
  assert.equal(empty.status, 204);
  assert.equal(empty.body, null);
  const looping = await fetch(`${base}/loop`);
  assert.equal(looping.status, 302, 'after 5 redirects the last answer is returned');
});

test('without the CA (no variable, or a file that cannot be read) the TLS handshake fails', async () => {
  await assert.rejects(trustingFetch({})(`${base}/file`), /self-signed|unable to verify|certificate/i);
  await assert.rejects(trustingFetch({ NODE_EXTRA_CA_CERTS: join(dir, 'no-such.pem') })(`${base}/file`), /self-signed|unable to verify|certificate/i);
});

test('an abort signal cuts the request', async () => {
  const fetch = trustingFetch({ NODE_EXTRA_CA_CERTS: caFile });
  const t0 = Date.now();
  await assert.rejects(fetch(`${base}/slow`, { signal: AbortSignal.timeout(200) }), (e: Error) => e.name === 'AbortError' || e.name === 'TimeoutError');
  assert.ok(Date.now() - t0 < 4_000);
});

test('trustContext: nothing to add gives no context; a given certificate or a readable file gives one', async () => {
  assert.equal(await trustContext([], []), undefined);
  assert.equal(await trustContext([], [join(dir, 'no-such.pem')]), undefined);
  assert.ok(await trustContext([], [caFile]));
  assert.ok(await trustContext([await readFile(caFile, 'utf8')], []));
});
