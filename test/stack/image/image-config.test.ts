/** The config of stack images: user, env, labels and dates derived from stack.toml and the lock, never the clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStackConfig } from '../../../src/stack/config.js';
import { lockReleaseDate, parseReleaseDate, stackImageConfig } from '../../../src/stack/image/image-config.js';
import type { StackLock } from '../../../src/stack/lock.js';

const config = parseStackConfig(`
id = "example.stacks.test"
suite = "bookworm"
arch = "arm64"
[user]
uid = 1001
gid = 1002
name = "app"
[labels]
"io.buildpacks.base.maintainer" = "Example Corp"
"io.buildpacks.base.id" = "ignored: cairn derives it"
[run]
packages = ["libc6"]
labels = { "org.example.flavour" = "tiny" }
`, { what: 'stack.toml', baseDir: '/nowhere' });

const image = { requested: [], exclude: [], essential: false, packages: [] };
const lock: StackLock = {
  distro: 'debian', suite: 'bookworm', arch: 'arm64', components: ['main'], updates: true, security: true,
  sources: [
    { suite: 'bookworm', mirror: 'm', date: 'Sat, 11 Jul 2026 10:16:37 UTC', indexes: {} },
    { suite: 'bookworm-security', mirror: 'm', date: 'Sat, 21 Nov 2026 00:53:02 +0100', indexes: {} },
  ],
  build: image,
  run: image,
};

test('release dates parse in Debian\'s RFC 2822 form; the newest source wins', () => {
  assert.equal(parseReleaseDate('Sat, 11 Jul 2026 10:16:37 UTC', 's').toISOString(), '2026-07-11T10:16:37.000Z');
  assert.equal(parseReleaseDate('21 Nov 2026 00:53:02 +0100', 's').toISOString(), '2026-11-20T23:53:02.000Z');
  assert.equal(lockReleaseDate(lock).toISOString(), '2026-11-20T23:53:02.000Z');
  assert.throws(() => parseReleaseDate('yesterday', 'bookworm'), /suite bookworm.*not an RFC 2822 date/);
});

test('run image: non-root user, CNB ids, PATH, base labels, rebasable, arm64/v8', () => {
  const c = stackImageConfig({ config, lock, image: 'run', createdBy: 'test' });
  assert.deepEqual([c.os, c.architecture, c.variant], ['linux', 'arm64', 'v8']);
  assert.equal(c.created, '2026-11-20T23:53:02Z');
  assert.equal(c.config!.User, '1001:1002');
  assert.deepEqual(c.config!.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CNB_USER_ID=1001', 'CNB_GROUP_ID=1002']);
  assert.deepEqual(c.config!.Labels, {
    'io.buildpacks.base.distro.name': 'debian',
    'io.buildpacks.base.distro.version': '12',
    'io.buildpacks.base.id': 'example.stacks.test',
    'io.buildpacks.base.maintainer': 'Example Corp',
    'io.buildpacks.base.released': '2026-11-20T23:53:02Z',
    'io.buildpacks.rebasable': 'true',
    'io.buildpacks.stack.id': 'example.stacks.test',
    'org.example.flavour': 'tiny',
  });
  assert.deepEqual(c.history, [{ created: '2026-11-20T23:53:02Z', created_by: 'test' }]);
});

test('build image: same user, ids and distro labels, not rebasable', () => {
  const c = stackImageConfig({ config, lock, image: 'build', createdBy: 'test' });
  assert.equal(c.config!.User, '1001:1002');
  assert.equal(c.config!.Labels!['io.buildpacks.rebasable'], undefined);
  assert.equal(c.config!.Labels!['org.example.flavour'], undefined, 'run labels stay on the run image');
  assert.equal(c.config!.Labels!['io.buildpacks.base.distro.version'], '12');
  assert.equal(c.config!.WorkingDir, '/');
});
