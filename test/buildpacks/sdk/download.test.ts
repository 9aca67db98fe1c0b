/**
 * Downloads: tar extraction (pax and GNU long names, links, refused escapes), digest checks, retries after
 * a broken connection, HTTP proxies, and HTTPS through a CONNECT proxy with the CA from NODE_EXTRA_CA_CERTS.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import tar from 'tar-stream';
import { downloadArchive, parseDigest } from '../../../src/buildpacks/sdk/download.js';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';
import { getJson, noProxy, proxyFor } from '../../../src/buildpacks/sdk/http.js';
import { needTool } from '../../helpers/tools.js';

let dir: string;
const servers: Server[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-sdk-dl-'));
});
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await rm(dir, { recursive: true, force: true });
});

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; content?: string; linkname?: string; mode?: number };

async function tgz(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    if ((e.type ?? 'file') === 'file') pack.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.content ?? '');
    else pack.entry({ name: e.name, type: e.type!, ...(e.linkname ? { linkname: e.linkname } : {}) });
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

function sri(b: Buffer): string {
  return `sha512-${createHash('sha512').update(b).digest('base64')}`;
}

async function serve(handler: Parameters<typeof createHttpServer>[1]): Promise<string> {
  const s = createHttpServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const LONG = `package/${'deep/'.repeat(25)}file.txt`;

test('a verified download extracts mapped entries: long names, symlinks, hard links, modes', async () => {
  const blob = await tgz([
    { name: 'package/bin/tool', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { name: LONG, content: 'deep' },
    { name: 'package/bin/alias', type: 'symlink', linkname: 'tool' },
    { name: 'package/bin/copy', type: 'link', linkname: 'package/bin/tool' },
    { name: 'package/README.md', content: 'skip me' },
  ]);
  const url = await serve((_req, res) => res.end(blob));
  const staging = join(dir, 'ok');
  const bytes = await downloadArchive(`${url}/x.tgz`, { env: {}, digest: parseDigest(sri(blob)), staging, gzip: true, what: 'test', map: (p) => (p.startsWith('package/') && !p.endsWith('.md') ? p.slice(8) : undefined) });
  assert.equal(bytes, blob.length);
  assert.equal(await readFile(join(staging, 'bin', 'tool'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal((await stat(join(staging, 'bin', 'tool'))).mode & 0o777, 0o755);
  assert.equal(await readFile(join(staging, LONG.slice(8)), 'utf8'), 'deep');
  assert.equal(await readlink(join(staging, 'bin', 'alias')), 'tool');
  assert.equal(await readFile(join(staging, 'bin', 'copy'), 'utf8'), '#!/bin/sh\necho hi\n');
  await assert.rejects(lstat(join(staging, 'README.md')));
});

test('a digest mismatch installs nothing and says so', async () => {
  const blob = await tgz([{ name: 'package/a', content: 'a' }]);
  const url = await serve((_req, res) => res.end(blob));
  const staging = join(dir, 'bad');
  const other = await tgz([{ name: 'package/b', content: 'b' }]);
  await assert.rejects(
    downloadArchive(`${url}/x.tgz`, { env: {}, digest: parseDigest(sri(other)), staging, gzip: true, what: 'Node.js 1.2.3', map: (p) => p }),
    (e: unknown) => e instanceof BuildpackError && /Node\.js 1\.2\.3: the download from .* does not match its sha512 digest/.test(e.message),
  );
  await assert.rejects(lstat(staging), 'staging removed');
});

test('unsafe archives are refused: .. paths, links out, entries under an archive symlink', async () => {
  for (const [name, entries] of [
    ['dotdot', [{ name: 'package/../../evil', content: 'x' }]],
    ['link-out', [{ name: 'package/l', type: 'symlink', linkname: '../../etc' }]],
    ['under-link', [{ name: 'package/l', type: 'symlink', linkname: 'sub' }, { name: 'package/l/x', content: 'x' }]],
  ] as [string, Entry[]][]) {
    const blob = await tgz(entries);
    const url = await serve((_req, res) => res.end(blob));
    await assert.rejects(
      downloadArchive(`${url}/x.tgz`, { env: {}, digest: parseDigest(sri(blob)), staging: join(dir, name), gzip: true, what: 't', map: (p) => p }),
      (e: unknown) => e instanceof BuildpackError && /cannot extract the archive/.test(e.message),
      name,
    );
  }
});

test('a connection broken mid-way is retried; a 404 is not', async () => {
  const blob = await tgz([{ name: 'package/big', content: (await import('node:crypto')).randomBytes(100_000).toString('hex') }]);
  let calls = 0;
  const url = await serve((req, res) => {
    if (req.url === '/missing') {
      res.writeHead(404).end();
      return;
    }
    calls++;
    res.writeHead(200, { 'content-length': blob.length });
    if (calls === 1) res.write(blob.subarray(0, 1000), () => res.socket?.destroy());
    else res.end(blob);
  });
  await downloadArchive(`${url}/x.tgz`, { env: {}, digest: parseDigest(sri(blob)), staging: join(dir, 'retry'), gzip: true, what: 't', map: (p) => p });
  assert.equal(calls, 2);
  await assert.rejects(getJson(`${url}/missing`, { env: {}, what: 'the registry' }), (e: unknown) => e instanceof BuildpackError && /\/missing \(the registry\) answered HTTP 404/.test(e.message));
});

test('digests: SRI (strongest wins) and hex', () => {
  const d = parseDigest('sha1-AAAA sha512-' + Buffer.from('ab', 'hex').toString('base64'));
  assert.deepEqual(d, { algorithm: 'sha512', hex: 'ab' });
  assert.deepEqual(parseDigest('sha256:ABCD'), { algorithm: 'sha256', hex: 'abcd' });
  assert.throws(() => parseDigest('md5-xyz'), BuildpackError);
});

test('proxy settings: HTTP(S)_PROXY per scheme, NO_PROXY names, suffixes, ports and *', () => {
  const env = { HTTPS_PROXY: 'proxy.corp:3128', http_proxy: 'http://user:pw@p2:8080', NO_PROXY: 'localhost,.internal.example, registry.local:8443' };
  assert.equal(proxyFor(new URL('https://registry.npmjs.org/x'), env)?.href, 'http://proxy.corp:3128/');
  assert.equal(proxyFor(new URL('http://example.com/'), env)?.host, 'p2:8080');
  assert.equal(proxyFor(new URL('https://a.internal.example/'), env), undefined);
  assert.equal(proxyFor(new URL('https://internal.example/'), env), undefined);
  assert.equal(proxyFor(new URL('https://registry.local:8443/'), env), undefined);
  assert.ok(proxyFor(new URL('https://registry.local/'), env), 'another port is proxied');
  assert.ok(noProxy(new URL('https://anything/'), { no_proxy: '*' }));
});

test('an http URL goes through HTTP_PROXY as an absolute-form request', async () => {
  const seen: string[] = [];
  const origin = await serve((_req, res) => res.end('{"ok":true}'));
  const proxy = await serve((req, res) => {
    seen.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`);
    const u = new URL(req.url!);
    const up = request({ host: u.hostname, port: u.port, path: u.pathname, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.end();
  });
  const proxyUrl = new URL(proxy);
  proxyUrl.username = 'u';
  proxyUrl.password = 'p';
  assert.deepEqual(await getJson(`${origin}/doc`, { env: { HTTP_PROXY: proxyUrl.href } }), { ok: true });
  assert.deepEqual(seen, [`${origin}/doc Basic ${Buffer.from('u:p').toString('base64')}`]);
});

test('https through a CONNECT proxy, trusting the CA from NODE_EXTRA_CA_CERTS', async (t) => {
  if (!needTool(t, 'openssl')) return;
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const tls = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, (_req, res) => res.end('{"via":"tls"}'));
  servers.push(tls as unknown as Server);
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  const tlsPort = (tls.address() as AddressInfo).port;
  const tunnels: string[] = [];
  const proxy = createHttpServer();
  servers.push(proxy);
  proxy.on('connect', (req, socket, head) => {
    tunnels.push(req.url!);
    const up = connect(tlsPort, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyPort = (proxy.address() as AddressInfo).port;
  // A fresh node process: NODE_EXTRA_CA_CERTS is read once, at start-up.
  const http = fileURLToPath(new URL('../../../src/buildpacks/sdk/http.js', import.meta.url));
  const script = join(dir, 'get.mjs');
  await writeFile(script, `import { getJson } from ${JSON.stringify(http)};\nconsole.log(JSON.stringify(await getJson('https://localhost:${tlsPort}/x', { env: process.env })));\n`);
  // A child process, so that this one keeps serving the proxy and the TLS server.
  const child = await import('node:child_process');
  const exec = (extra: Record<string, string>) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = child.spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, ...extra } });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c));
    p.stderr.on('data', (c: Buffer) => (out += c));
    p.on('close', (code) => resolve({ code, out }));
  });
  const ok = await exec({ NODE_EXTRA_CA_CERTS: cert });
  assert.equal(ok.code, 0, ok.out);
  assert.equal(ok.out.trim(), '{"via":"tls"}');
  assert.deepEqual(tunnels, [`localhost:${tlsPort}`]);
  const untrusted = await exec({});
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.out, /the TLS certificate is not trusted: pass the CA certificate into the build/);
});
