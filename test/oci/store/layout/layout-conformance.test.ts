import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayoutStore } from '../../../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../../../src/oci/store/layout/validate-layout.js';
import { runStoreConformance } from '../../store-conformance.js';

runStoreConformance('oci layout', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-layout-'));
  const store = await openLayoutStore(join(dir, 'layout'), { create: true });
  return {
    store,
    cleanup: async () => {
      await store.close();
      // Whatever the test did, the layout stays valid.
      await validateLayout(store.dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
});
