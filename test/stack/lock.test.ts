import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStackConfig } from '../../src/stack/config.js';
import { formatStackLock, lockDrift, parseStackLock, type StackLock } from '../../src/stack/lock.js';

const pkg = (name: string, version: string, suite = 'bookworm') => ({
  name,
  version,
  arch: 'amd64',
  suite,
  filename: `pool/main/${name[0]}/${name}/${name}_${version}_amd64.deb`,
  sha256: name.length.toString(16).padStart(64, 'a'),
  size: 1000 + name.length,
});

const LOCK: StackLock = {
  distro: 'debian',
  suite: 'bookworm',
  arch: 'amd64',
  components: ['main'],
  updates: true,
  security: true,
  sources: [
    { suite: 'bookworm', mirror: 'http://deb.debian.org/debian', date: 'Sat, 11 Jul 2026 10:16:37 UTC', indexes: { 'main/binary-amd64/Packages': 'f'.repeat(64) } },
    { suite: 'bookworm-security', mirror: 'http://deb.debian.org/debian-security', date: 'Sat, 21 Nov 2026 00:53:02 UTC', indexes: { 'main/binary-amd64/Packages': 'e'.repeat(64) } },
  ],
  build: { requested: ['bash'], exclude: ['usrmerge'], essential: true, packages: [pkg('libc6', '2.36-9+deb12u10', 'bookworm-security'), pkg('bash', '5.2.15-2+b7')] },
  run: { requested: ['libc6'], exclude: [], essential: false, packages: [pkg('libc6', '2.36-9+deb12u10', 'bookworm-security')] },
};

test('formatStackLock is stable and sorted, and parseStackLock reads it back', () => {
  const text = formatStackLock(LOCK);
  assert.equal(formatStackLock(parseStackLock(text, 'stack.lock')), text, 'format(parse(format(x))) === format(x)');
  const parsed = parseStackLock(text, 'stack.lock');
  assert.deepEqual(parsed.build.packages.map((p) => p.name), ['bash', 'libc6'], 'packages are written sorted by name');
  assert.deepEqual(parsed.sources, LOCK.sources);
  assert.deepEqual(parsed.run, LOCK.run);
  // Package order in the value does not change the bytes.
  assert.equal(formatStackLock({ ...LOCK, build: { ...LOCK.build, packages: [...LOCK.build.packages].reverse() } }), text);
  assert.match(text, /^# stack.lock/);
  assert.ok(!/\d{4}-\d{2}-\d{2}T/.test(text), 'no timestamps of its own');
});

test('parseStackLock rejects malformed locks with the key at fault', () => {
  const text = formatStackLock(LOCK);
  assert.throws(() => parseStackLock('lock-version = 2', 'stack.lock'), /stack.lock has lock-version 2/);
  assert.throws(() => parseStackLock(text.replace(/sha256 = "a+4"/, 'sha256 = "xyz"'), 'stack.lock'), /build.packages\[0\].sha256 "xyz" is not 64 hex characters/);
  assert.throws(() => parseStackLock(text.replace('size = 1004', 'size = "big"'), 'stack.lock'), /size is missing or not an integer/);
  assert.throws(() => parseStackLock(text.replace(/filename = "pool[^"]*bash[^"]*"/, 'filename = "../../etc/passwd"'), 'stack.lock'), /filename "..\/..\/etc\/passwd" is not a pool path/);
  assert.throws(() => parseStackLock(text.slice(0, text.indexOf('[run]')), 'stack.lock'), /\[run\] is missing/);
  assert.throws(() => parseStackLock('x = ', 'stack.lock'), (e: Error & { code?: string; hint?: string }) => e.code === 'INVALID_ARGUMENT' && /--update/.test(e.hint ?? ''));
});

test('lockDrift names what changed in stack.toml since the lock was made', () => {
  const config = parseStackConfig('[build]\npackages = ["bash"]\nexclude = ["usrmerge"]\nessential = true\n[run]\npackages = ["libc6"]', { what: 's', baseDir: '/' });
  assert.deepEqual(lockDrift(LOCK, config), []);
  const noExclude = parseStackConfig('[build]\npackages = ["bash"]\nessential = true\n[run]\npackages = ["libc6"]', { what: 's', baseDir: '/' });
  assert.deepEqual(lockDrift(LOCK, noExclude), ['build.exclude']);
  const changed = parseStackConfig('suite = "trixie"\nupdates = false\n[build]\npackages = ["bash", "git"]\n[run]\npackages = ["libc6"]', { what: 's', baseDir: '/' });
  assert.deepEqual(lockDrift(LOCK, changed), ['suite (bookworm → trixie)', 'updates', 'build.packages', 'build.exclude', 'build.essential']);
  // Mirrors, users and files do not affect resolution.
  const cosmetic = parseStackConfig('[mirrors]\ndebian = "http://other/debian"\n[user]\nuid = 2000\n[build]\npackages = ["bash"]\nexclude = ["usrmerge"]\nessential = true\n[run]\npackages = ["libc6"]', { what: 's', baseDir: '/' });
  assert.deepEqual(lockDrift(LOCK, cosmetic), []);
});
