/** The daemon store without an engine: DOCKER_HOST parsing and the DAEMON_UNAVAILABLE error. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCairnError } from '../../../../src/oci/errors.js';
import { openDaemonStore } from '../../../../src/oci/store/daemon/daemon-store.js';
import { parseDockerHost } from '../../../../src/oci/store/daemon/engine-client.js';

test('DOCKER_HOST: unix socket, tcp, default; others refused', () => {
  assert.deepEqual(parseDockerHost(undefined), { socketPath: '/var/run/docker.sock' });
  assert.deepEqual(parseDockerHost(''), { socketPath: '/var/run/docker.sock' });
  assert.deepEqual(parseDockerHost('unix:///run/podman/podman.sock'), { socketPath: '/run/podman/podman.sock' });
  assert.deepEqual(parseDockerHost('tcp://127.0.0.1:2375'), { host: '127.0.0.1', port: 2375 });
  for (const bad of ['ssh://user@host', 'npipe:////./pipe/docker_engine', 'unix://relative.sock']) {
    assert.throws(() => parseDockerHost(bad), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
  }
});

test('an absent socket or closed port gives DAEMON_UNAVAILABLE with a hint, leaving no temp files', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'cairn-daemon-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const port = await new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  for (const dockerHost of [`unix://${join(tmp, 'none.sock')}`, `tcp://127.0.0.1:${port}`]) {
    await assert.rejects(openDaemonStore({ dockerHost, tempDir: tmp }), (e) => {
      assert.ok(isCairnError(e, 'DAEMON_UNAVAILABLE'), String(e));
      assert.ok(e.message.includes(dockerHost.replace('unix://', 'unix://')), e.message);
      assert.match(e.hint ?? '', /DOCKER_HOST/);
      return true;
    });
  }
  assert.deepEqual(await readdir(tmp), []);
});
