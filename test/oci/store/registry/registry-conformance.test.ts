/** The Store conformance suite against the registry store: over the fake registry, and over Debian's docker-registry. */
import { after, test } from 'node:test';
import { openRegistryStore } from '../../../../src/oci/store/registry/registry-store.js';
import { startDockerRegistry, type RunningRegistry } from '../../../helpers/docker-registry.js';
import { FakeRegistry } from '../../../helpers/fake-registry.js';
import { needTool, whichTool } from '../../../helpers/tools.js';
import { runStoreConformance } from '../../store-conformance.js';

const retry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 1000 };

runStoreConformance('registry (fake)', async () => {
  const reg = await FakeRegistry.start();
  const store = openRegistryStore({ host: reg.host, repository: 'conformance/repo', insecure: true, retry, chunkSize: 64 * 1024 });
  return { store, cleanup: async () => (await store.close(), await reg.stop()) };
});

if (whichTool('docker-registry')) {
  let real: Promise<RunningRegistry> | undefined;
  let n = 0;
  after(async () => real && (await (await real).stop()));
  runStoreConformance('registry (docker-registry 2.8)', async () => {
    const reg = await (real ??= startDockerRegistry());
    const store = openRegistryStore({ host: reg.host, repository: `conformance/repo${++n}`, insecure: true, retry, chunkSize: 64 * 1024 });
    return { store, cleanup: () => store.close() };
  });
} else {
  test('registry (docker-registry 2.8): conformance', (t) => void needTool(t, 'docker-registry'));
}
