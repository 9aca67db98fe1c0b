/**
 * NETWORK + ROOT: `cairn stack create` end to end with http://deb.debian.org and the shipped `tiny` stack.
 * The same stack.lock composed in two folders with separate cairn homes gives identical build and run image
 * digests (cold, measured); a warm run reuses the cached layers (measured, < 20 s). Bad input — malformed
 * stack.toml, unknown package, unreachable mirror, bad Release signature, .deb not matching the lock —
 * fails naming the culprit with a non-zero exit, and writes neither images nor stack.lock.
 * The timings are printed as test diagnostics (BENCHMARKS.md quotes them).
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatStackLock, type StackLock } from '../../src/stack/lock.js';
import { runCairn } from '../helpers/cli.js';
import { needTool } from '../helpers/tools.js';
import { FakeMirror, makeSigningKey, sha256hex } from '../stack/helpers/fake-debian.js';
import { needDebianMirror } from '../stack/helpers/network.js';

const TINY = fileURLToPath(new URL('../../../stacks/tiny/', import.meta.url));
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-stack-cli-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function ready(t: TestContext): Promise<boolean> {
  if (!needTool(t, 'bwrap')) return false;
  if (process.getuid?.() !== 0) {
    t.skip('composing the build image runs dpkg --configure in bwrap, which needs root');
    return false;
  }
  return needDebianMirror(t);
}

/** A port nothing listens on (taken from the kernel, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** A copy of a stack folder (stack.toml + stack.lock) under a new name. */
async function stackCopy(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(TINY, dir, { recursive: true });
  return dir;
}

test('the same lock in two folders gives identical digests; a warm run is fast', { timeout: 600_000 }, async (t) => {
  if (!(await ready(t))) return;
  const homeA = join(work, 'home-a');
  const homeB = join(work, 'home-b');
  await mkdir(homeB, { recursive: true });
  const create = async (home: string, dir: string, out: string) => {
    const t0 = performance.now();
    const r = await runCairn(['stack', 'create', '--config', join(dir, 'stack.toml'), '--build-image', `oci:${out}:build`, '--run-image', `oci:${out}:run`, '--json'], { env: { CAIRN_HOME: home }, cwd: work, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    return { result: JSON.parse(r.stdout) as { buildImage: { digest: string; cached: boolean }; runImage: { digest: string; cached: boolean }; lockWritten: boolean }, seconds: (performance.now() - t0) / 1000 };
  };
  const a = await create(homeA, await stackCopy('tiny-a'), join(work, 'out-a'));
  // The second home shares only the downloaded .deb files: its layers are composed and configured anew.
  await symlink(join(homeA, 'debian'), join(homeB, 'debian'));
  const b = await create(homeB, await stackCopy('tiny-b'), join(work, 'out-b'));
  const warm = await create(homeA, await stackCopy('tiny-c'), join(work, 'out-c'));
  t.diagnostic(`stack create tiny: cold (empty cairn home, downloads included) ${a.seconds.toFixed(1)} s; cold with the .deb files cached ${b.seconds.toFixed(1)} s; warm ${warm.seconds.toFixed(1)} s`);

  assert.equal(a.result.lockWritten, false, 'the shipped lock matches stack.toml: it is used as it is');
  assert.deepEqual([a.result.buildImage.cached, b.result.buildImage.cached, warm.result.buildImage.cached], [false, false, true]);
  assert.equal(b.result.buildImage.digest, a.result.buildImage.digest, 'build images are identical');
  assert.equal(b.result.runImage.digest, a.result.runImage.digest, 'run images are identical');
  assert.equal(warm.result.runImage.digest, a.result.runImage.digest);
  assert.ok(a.seconds < 180, `cold run took ${a.seconds.toFixed(1)} s (goal < 180 s)`);
  assert.ok(warm.seconds < 20, `warm run took ${warm.seconds.toFixed(1)} s (goal < 20 s)`);
  assert.equal(await readFile(join(work, 'tiny-a', 'stack.lock'), 'utf8'), await readFile(join(TINY, 'stack.lock'), 'utf8'), 'the lock is untouched');
});

test('bad input fails naming the culprit, exits non-zero, and writes nothing', { timeout: 300_000 }, async (t) => {
  if (!(await ready(t))) return;
  const home = join(work, 'home-errors');
  const expectFailure = async (name: string, toml: string, message: RegExp, lock?: string) => {
    const dir = join(work, `bad-${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'stack.toml'), toml);
    if (lock !== undefined) await writeFile(join(dir, 'stack.lock'), lock);
    const out = join(dir, 'out');
    const r = await runCairn(['stack', 'create', '--config', join(dir, 'stack.toml'), '--build-image', `oci:${out}:build`, '--run-image', 'bad/run:latest'], { env: { CAIRN_HOME: home }, cwd: dir, timeoutMs: 240_000 });
    assert.notEqual(r.code, 0, `${name}: exit status`);
    t.diagnostic(`${name}: ${r.stderr.trim().split("\n").join(" / ")}`);
    assert.match(r.stderr, message, `${name}: the message names the culprit`);
    assert.match(r.stderr, /^hint: /m, `${name}: a hint follows`);
    assert.equal(await exists(out), false, `${name}: no build image written`);
    if (lock === undefined) assert.equal(await exists(join(dir, 'stack.lock')), false, `${name}: no stack.lock written`);
    const ls = await runCairn(['image', 'ls', '--json'], { env: { CAIRN_HOME: home } });
    assert.deepEqual(JSON.parse(ls.stdout), [], `${name}: nothing in the local store`);
  };
  await expectFailure('malformed', '[run]\npakages = ["libc6"]\n', /unknown key "run\.pakages"/);
  await expectFailure('unknown-package', 'updates = false\nsecurity = false\n[run]\npackages = ["libc6", "cairn-no-such-package"]\n', /cairn-no-such-package/);
  const port = await closedPort();
  await expectFailure('unreachable', `[mirrors]\ndebian = "http://127.0.0.1:${port}/debian"\n[run]\npackages = ["libc6"]\n`, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/debian/dists/bookworm/InRelease`));

  // A mirror on 127.0.0.1 whose Release is signed by a key that is not Debian's.
  const key = await makeSigningKey();
  const mirror = new FakeMirror(key.privateKey);
  try {
    const debs = await mirror.addSuite('bookworm', { debs: [{ name: 'libc6', version: '2.36-9', files: [{ path: './usr/lib/libc.so.6', data: 'ELF' }] }] });
    const url = await mirror.start();
    const toml = `updates = false\nsecurity = false\n[mirrors]\ndebian = "${url}"\n[run]\npackages = ["libc6"]\n`;
    await expectFailure('bad-signature', toml, /bad signature on .*InRelease/);

    // The same mirror with a lock (no index is read): the .deb does not match the lock's sha256.
    const deb = debs.get('libc6')!;
    const image = { requested: [], exclude: [], essential: false, packages: [] };
    const lock: StackLock = {
      distro: 'debian', suite: 'bookworm', arch: 'amd64', components: ['main'], updates: false, security: false,
      sources: [{ suite: 'bookworm', mirror: url, date: 'Sat, 10 Jun 2023 09:00:00 UTC', indexes: {} }],
      build: image,
      run: {
        requested: ['libc6'], exclude: [], essential: false,
        packages: [{ name: 'libc6', version: '2.36-9', arch: 'amd64', suite: 'bookworm', filename: 'pool/main/l/libc6/libc6_2.36-9_amd64.deb', sha256: sha256hex(Buffer.concat([deb, Buffer.from('x')])), size: deb.length }],
      },
    };
    await expectFailure('sha256-mismatch', toml, /libc6/, formatStackLock(lock));
  } finally {
    await mirror.stop();
    await key.cleanup();
  }
});
