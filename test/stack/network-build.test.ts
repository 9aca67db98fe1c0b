/**
 * NETWORK: uses http://deb.debian.org (reachable on the development and CI machines). Composes the build
 * image of stacks/base (Essential set + compilers and tools), runs `dpkg --configure -a` in it with
 * bubblewrap, then compiles and runs a C++ program in it as the CNB user. Prints the timings.
 * When the archive is unreachable the test fails under CI and is skipped elsewhere.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { composeImage } from '../../src/stack/compose.js';
import { configurePackages } from '../../src/stack/configure.js';
import { parseStackConfig } from '../../src/stack/config.js';
import { ContentCache } from '../../src/stack/debian/cache.js';
import { findBundledKeysDir, loadKeyring } from '../../src/stack/debian/keyring.js';
import { lockStack } from '../../src/stack/lock-stack.js';
import { needTool } from '../helpers/tools.js';
import { needDebianMirror } from './helpers/network.js';

test('the build image configures with dpkg and compiles C++ as the CNB user', { timeout: 240_000 }, async (t) => {
  if (!needTool(t, 'bwrap')) return;
  if (!(await needDebianMirror(t))) return;
  if (process.getuid?.() !== 0) {
    t.skip('dpkg --configure in bwrap needs root here');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cairn-build-'));
  try {
    const text = readFileSync(new URL('../../../stacks/base/stack.toml', import.meta.url), 'utf8');
    const config = parseStackConfig(text, { what: 'stacks/base/stack.toml', baseDir: dir });
    const keyring = await loadKeyring(findBundledKeysDir(import.meta.url)!);
    const cache = new ContentCache(join(dir, 'cache'));
    let t0 = performance.now();
    const { lock } = await lockStack({ config: { ...config, run: { ...config.run, packages: [] } }, keyring, cache, fetch, now: new Date() });
    const lockMs = performance.now() - t0;
    t0 = performance.now();
    const image = await composeImage({ config, lock, image: 'build', root: join(dir, 'root'), cache, fetch, dpkgState: 'unpacked' });
    const composeMs = performance.now() - t0;
    t0 = performance.now();
    await configurePackages(image.tree);
    const configureMs = performance.now() - t0;
    const mb = lock.build.packages.reduce((n, p) => n + p.size, 0) / 1e6;
    t.diagnostic(`build: ${lock.build.packages.length} packages, ${mb.toFixed(1)} MB of .debs, ${image.tree.entries().length} entries, ${image.needsConfigure.length} with maintainer scripts; index+resolve ${lockMs.toFixed(0)} ms, compose (cold cache) ${composeMs.toFixed(0)} ms, dpkg --configure ${configureMs.toFixed(0)} ms`);

    const status = readFileSync(join(image.tree.root, 'var/lib/dpkg/status'), 'utf8');
    const states = status.split('\n').filter((l) => l.startsWith('Status:'));
    assert.equal(states.length, lock.build.packages.length);
    assert.ok(states.every((s) => s === 'Status: install ok installed'), 'every package is configured');
    assert.equal(image.tree.entry('var/log/dpkg.log'), undefined, 'timestamped logs are removed');
    assert.equal(image.tree.entry('usr/bin/sh')?.target, 'dash', 'dash is /bin/sh after configuration');

    writeFileSync(join(image.tree.root, 'home/cnb/hello.cc'), '#include <iostream>\n#include <string>\nint main() { std::string s = "hello from g++"; std::cout << s << std::endl; }\n');
    const sandbox = ['--bind', image.tree.root, '/', '--proc', '/proc', '--dev', '/dev', '--unshare-user', '--unshare-pid', '--unshare-net', '--uid', '1000', '--gid', '1000', '--chdir', '/home/cnb', '--clearenv', '--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'HOME', '/home/cnb'];
    execFileSync('chown', ['1000:1000', join(image.tree.root, 'home/cnb/hello.cc')]);
    execFileSync('bwrap', [...sandbox, 'sh', '-c', 'g++ -O1 -o hello hello.cc && make --version >/dev/null && python3 -c "import ssl, json" && git --version >/dev/null'], { stdio: 'pipe' });
    assert.equal(execFileSync('bwrap', [...sandbox, './hello'], { encoding: 'utf8' }), 'hello from g++\n');
    assert.equal(execFileSync('bwrap', [...sandbox, 'id', '-un'], { encoding: 'utf8' }), 'cnb\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
