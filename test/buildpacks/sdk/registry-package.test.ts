/**
 * Tools from an npm registry (sdk/registry-package.ts) against a local registry: exact versions by their own
 * document, ranges from the packument (filtered, checked against the Node.js version), and the verified
 * installation of the tarball's `package/` folder.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import tar from 'tar-stream';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';
import { installRelease, registryPackage, resolveRelease } from '../../../src/buildpacks/sdk/registry-package.js';

let dir: string;
let server: Server;
let base: string;
const paths: string[] = [];
let tarball: Buffer;

async function tgz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o755 }, content);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

const sri = (b: Buffer) => `sha512-${createHash('sha512').update(b).digest('base64')}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-sdk-regpkg-'));
  tarball = await tgz({ 'package/bin/tool.js': '#!/usr/bin/env node\nconsole.log("tool")\n', 'package/package.json': '{"name":"@x/tool"}', 'other/ignored': 'x' });
  server = createServer((req, res) => {
    paths.push(req.url!);
    const v = (version: string, node: string, integrity = sri(tarball)) => ({ version, engines: { node }, dist: { tarball: `${base}/@x/tool/-/tool-${version}.tgz`, integrity } });
    const docs: Record<string, unknown> = {
      '/@x%2ftool': { versions: { '1.0.0': v('1.0.0', '>=14'), '1.5.0': v('1.5.0', '>=18'), '2.0.0': v('2.0.0', '>=14'), '2.1.0-rc.1': v('2.1.0-rc.1', '>=14') } },
      '/@x%2ftool/1.0.0': v('1.0.0', '>=14'),
      '/@x%2ftool/1.5.0': v('1.5.0', '>=18', 'sha512-AAAA'),
    };
    if (req.url! in docs) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(docs[req.url!]));
    if (req.url!.endsWith('.tgz')) return res.writeHead(200).end(tarball);
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

test('resolveRelease: exact by its own document, ranges from the packument, filtered and checked against Node.js', async () => {
  const pkg = registryPackage(`${base}/`, '@x/tool', {});
  paths.length = 0;
  assert.equal((await resolveRelease(pkg, '1.0.0', '16.0.0', 'tool 1.0.0')).version, '1.0.0');
  assert.deepEqual(paths, ['/@x%2ftool/1.0.0'], 'one small document for an exact version');
  assert.equal((await resolveRelease(pkg, '*', '20.0.0', 'tool')).version, '2.0.0', 'no prerelease');
  assert.equal((await resolveRelease(pkg, '*', '20.0.0', 'tool', (v) => v.startsWith('1.'))).version, '1.5.0');
  assert.equal((await resolveRelease(pkg, '1.x', '16.0.0', 'tool')).version, '1.0.0', '1.5.0 needs Node.js 18');
  await assert.rejects(resolveRelease(pkg, '1.9.9', '20.0.0', 'tool 1.9.9 (packageManager)'), /no release of tool 1\.9\.9 \(packageManager\) exists in the registry/);
  await assert.rejects(resolveRelease(pkg, '1.5.0', '16.0.0', 'tool 1.5.0'), /1\.5\.0 does not run on Node\.js 16\.0\.0 \(its engines\.node is >=18\)/);
});

test('installRelease: the package/ folder, integrity checked; a mismatch installs nothing', async () => {
  const pkg = registryPackage(base, '@x/tool', {});
  const dest = join(dir, 'ok');
  await installRelease(await pkg.release('1.0.0'), dest, { env: {}, staging: join(dir, 'staging'), what: 'tool 1.0.0' });
  assert.match(await readFile(join(dest, 'bin', 'tool.js'), 'utf8'), /console\.log/);
  assert.equal((await stat(join(dest, 'bin', 'tool.js'))).mode & 0o777, 0o755);
  await assert.rejects(stat(join(dest, 'other')), 'only package/ is taken');
  const bad = join(dir, 'bad');
  await assert.rejects(installRelease(await pkg.release('1.5.0'), bad, { env: {}, staging: join(dir, 'staging2'), what: 'tool 1.5.0' }), (e: unknown) => e instanceof BuildpackError && /does not match its sha512 digest/.test(e.message));
  await assert.rejects(stat(bad));
  await assert.rejects(stat(join(dir, 'staging2')));
});
