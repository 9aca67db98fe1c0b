import { MemoryStore } from '../../../../src/oci/store/memory/memory-store.js';
import { runStoreConformance } from '../../store-conformance.js';

runStoreConformance('memory', async () => ({ store: new MemoryStore(), cleanup: async () => undefined }));
