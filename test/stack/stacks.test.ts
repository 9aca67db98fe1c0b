/** The stack definitions shipped in stacks/: well-formed, locked, consistent, and the bundled keys intact. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseStackConfig, type StackConfig } from '../../src/stack/config.js';
import { loadKeyring } from '../../src/stack/debian/keyring.js';
import { formatStackLock, lockDrift, parseStackLock, type StackLock } from '../../src/stack/lock.js';

const stacksDir = fileURLToPath(new URL('../../../stacks/', import.meta.url));

function load(name: string): { config: StackConfig; lock: StackLock; lockText: string } {
  const dir = `${stacksDir}${name}`;
  const config = parseStackConfig(readFileSync(`${dir}/stack.toml`, 'utf8'), { what: `stacks/${name}/stack.toml`, baseDir: dir });
  const lockText = readFileSync(`${dir}/stack.lock`, 'utf8');
  return { config, lock: parseStackLock(lockText, `stacks/${name}/stack.lock`), lockText };
}

test('every stack has a stack.toml and a canonical stack.lock matching it', () => {
  const names = readdirSync(stacksDir).filter((n) => n !== 'keys').sort();
  assert.deepEqual(names, ['base', 'tiny']);
  for (const name of names) {
    const { config, lock, lockText } = load(name);
    assert.deepEqual(lockDrift(lock, config), [], `stacks/${name}/stack.lock is up to date`);
    assert.equal(formatStackLock(lock), lockText, `stacks/${name}/stack.lock is in canonical form`);
    assert.equal(config.suite, 'bookworm');
    assert.equal(config.user.uid, 1000);
    for (const p of [...lock.build.packages, ...lock.run.packages]) assert.ok(lock.sources.some((s) => s.suite === p.suite), `${p.name} comes from a listed suite`);
  }
});

test('all stacks share one build image definition', () => {
  const tiny = load('tiny');
  const base = load('base');
  assert.deepEqual(tiny.config.build, base.config.build);
  assert.deepEqual(tiny.lock.build, base.lock.build);
  const build = new Set(tiny.lock.build.packages.map((p) => p.name));
  for (const tool of ['bash', 'coreutils', 'tar', 'gzip', 'git', 'python3', 'make', 'g++', 'ca-certificates', 'dpkg']) assert.ok(build.has(tool), `build image has ${tool}`);
  assert.ok(!build.has('usrmerge'), 'usr-is-merged keeps the usrmerge converter out');
});

test('tiny has no shell; base adds bash, dash and coreutils', () => {
  const tiny = new Set(load('tiny').lock.run.packages.map((p) => p.name));
  const base = new Set(load('base').lock.run.packages.map((p) => p.name));
  for (const p of ['libc6', 'libstdc++6', 'libgcc-s1', 'ca-certificates', 'tzdata', 'base-files', 'netbase']) {
    assert.ok(tiny.has(p) && base.has(p), `${p} in both`);
  }
  for (const p of ['bash', 'dash', 'coreutils', 'openssl', 'debconf', 'mawk', 'dpkg']) assert.ok(!tiny.has(p), `tiny has no ${p}`);
  for (const p of ['bash', 'dash', 'coreutils']) assert.ok(base.has(p), `base has ${p}`);
  for (const p of base) assert.ok(!['openssl', 'debconf', 'dpkg'].includes(p), `base has no ${p}`);
});

test('the bundled archive keys are the ones listed in stacks/keys/README.md', async () => {
  const readme = readFileSync(`${stacksDir}keys/README.md`, 'utf8');
  const listed = [...readme.matchAll(/^\| (\S+\.gpg) \| ([0-9A-F]{16}) \| [^|]+ \| ([0-9a-f]{64}) \|$/gm)].map((m) => ({ file: m[1]!, id: m[2]!, sha: m[3]! }));
  const files = readdirSync(`${stacksDir}keys`).filter((f) => f.endsWith('.gpg')).sort();
  assert.deepEqual(listed.map((l) => l.file).sort(), files);
  for (const l of listed) assert.equal(createHash('sha256').update(readFileSync(`${stacksDir}keys/${l.file}`)).digest('hex'), l.sha, l.file);
  const ring = await loadKeyring(`${stacksDir}keys`);
  const ids = ring.keys.map((k) => k.getKeyID().toHex().toUpperCase());
  for (const l of listed) assert.ok(ids.includes(l.id), `${l.file} holds key ${l.id}`);
});
