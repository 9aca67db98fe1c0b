/**
 * NETWORK: uses http://deb.debian.org (reachable on the development and CI machines). Resolves the `tiny`
 * run image for bookworm/amd64 from the real archive (signatures checked against stacks/keys), downloads
 * and unpacks it, then runs the host's node binary in it with bubblewrap as the CNB user: the shared
 * libraries resolve, the zone is UTC, and a TLS request to a local HTTPS server succeeds only thanks to a
 * test CA added to the generated bundle. Prints cold and warm timings.
 * When the archive is unreachable the test fails under CI and is skipped elsewhere.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { composeImage } from '../../src/stack/compose.js';
import { parseStackConfig } from '../../src/stack/config.js';
import { ContentCache } from '../../src/stack/debian/cache.js';
import { findBundledKeysDir, loadKeyring } from '../../src/stack/debian/keyring.js';
import { formatStackLock } from '../../src/stack/lock.js';
import { lockStack } from '../../src/stack/lock-stack.js';
import type { RootTree } from '../../src/stack/root-tree.js';
import { needTool } from '../helpers/tools.js';
import { needDebianMirror } from './helpers/network.js';

function manifest(tree: RootTree): string {
  return tree
    .entries()
    .map((e) => `${e.path} ${e.kind} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.target ?? ''} ${e.kind === 'file' ? createHash('sha256').update(readFileSync(tree.hostPath(e.path))).digest('hex') : ''}`)
    .join('\n');
}

test('tiny bookworm/amd64 from deb.debian.org runs node as the CNB user with the generated CA bundle', { timeout: 120_000 }, async (t) => {
  if (!needTool(t, 'bwrap', 'openssl')) return;
  if (!(await needDebianMirror(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-tiny-'));
  try {
    // A throw-away CA and a server certificate for 127.0.0.1.
    const sh = (cmd: string): void => void execFileSync('sh', ['-c', cmd], { cwd: dir, stdio: 'pipe' });
    sh('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=cairn-test-ca');
    sh('openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    sh('openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext.cnf');

    const tiny = readFileSync(new URL('../../../stacks/tiny/stack.toml', import.meta.url), 'utf8');
    const config = parseStackConfig(`${tiny}\n[[run.files]]\npath = "/usr/local/share/ca-certificates/cairn-test.crt"\nsource = "ca.crt"\n`, { what: 'stacks/tiny/stack.toml', baseDir: dir });
    const keyring = await loadKeyring(findBundledKeysDir(import.meta.url)!);
    const cache = new ContentCache(join(dir, 'cache'));
    const warnings: string[] = [];

    let t0 = performance.now();
    const { lock } = await lockStack({ config: { ...config, build: { ...config.build, packages: [], essential: false } }, keyring, cache, fetch, now: new Date(), warn: (m) => warnings.push(m) });
    const lockMs = performance.now() - t0;
    assert.deepEqual(lock.run.requested, ['libc6', 'libgcc-s1', 'libstdc++6', 'ca-certificates', 'tzdata', 'base-files', 'netbase']);
    for (const name of lock.run.requested) assert.ok(lock.run.packages.some((p) => p.name === name), `${name} is locked`);

    t0 = performance.now();
    const cold = await composeImage({ config, lock, image: 'run', root: join(dir, 'cold'), cache, fetch });
    const coldMs = performance.now() - t0;
    t0 = performance.now();
    const warm = await composeImage({ config, lock, image: 'run', root: join(dir, 'warm'), cache, fetch });
    const warmMs = performance.now() - t0;
    const mb = lock.run.packages.reduce((n, p) => n + p.size, 0) / 1e6;
    t.diagnostic(`tiny: ${lock.run.packages.length} packages, ${mb.toFixed(1)} MB of .debs, ${cold.tree.entries().length} entries; index+resolve ${lockMs.toFixed(0)} ms, compose cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(0)} ms`);
    for (const w of warnings) t.diagnostic(`warning: ${w}`);
    assert.equal(manifest(warm.tree), manifest(cold.tree), 'the same lock gives the same tree');
    assert.ok(cold.certificates > 100, `${cold.certificates} certificates in the bundle`);
    assert.match(readFileSync(join(cold.tree.root, 'etc/os-release'), 'utf8'), /VERSION_CODENAME=bookworm/);
    assert.ok(formatStackLock(lock).includes('name = "libstdc++6"'));

    const server = createServer({ key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.crt')) }, (_req, res) => res.end('hello over tls'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      copyFileSync(process.execPath, join(cold.tree.root, 'usr/bin/node'));
      const script = `
        const https = require('https'), os = require('os');
        https.get('https://127.0.0.1:${port}/', (res) => {
          let body = ''; res.on('data', (c) => body += c);
          res.on('end', () => console.log(JSON.stringify({ uid: process.getuid(), user: os.userInfo().username, home: os.homedir(),
            tz: Intl.DateTimeFormat().resolvedOptions().timeZone, body })));
        }).on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message })); });`;
      // Asynchronously: the HTTPS server lives in this process.
      const run = (args: string[]): Promise<string> =>
        new Promise((resolve, reject) => {
          const argv = ['--bind', cold.tree.root, '/', '--proc', '/proc', '--dev', '/dev', '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--uid', '1000', '--gid', '1000', '--clearenv', '--setenv', 'SSL_CERT_FILE', '/etc/ssl/certs/ca-certificates.crt', '/usr/bin/node', ...args, '-e', script];
          execFile('bwrap', argv, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
        });
      // Node trusts the image's bundle (OpenSSL's CA file) and the test CA in it.
      assert.deepEqual(JSON.parse(await run(['--use-openssl-ca'])), { uid: 1000, user: 'cnb', home: '/home/cnb', tz: 'UTC', body: 'hello over tls' });
      // Control: with only node's built-in roots the same request fails, so the bundle is what made it work.
      assert.match(JSON.parse(await run([])).error, /CERT|SELF_SIGNED|UNABLE/);
    } finally {
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
