/**
 * A child process for the layout lock and crash tests (forked by layout-process.test.ts):
 *   tags DIR PREFIX COUNT  stores COUNT images tagged PREFIX-0 … PREFIX-(COUNT-1), then exits
 *   churn DIR SEED         writes, re-tags, deletes and collects in a loop until killed; says "ready" first
 * Run without arguments (e.g. by a test runner's glob) it does nothing.
 */
import { Readable } from 'node:stream';
import { sha256 } from '../../../../src/oci/digest.js';
import { openLayoutStore } from '../../../../src/oci/store/layout/layout-store.js';
import { buildTestImage, writeTestImage } from '../../../helpers/make-image.js';

const [mode, dir, a, b] = process.argv.slice(2);

if (mode === 'tags' && dir && a && b) {
  const store = await openLayoutStore(dir, { create: true });
  for (let i = 0; i < Number(b); i++) {
    const image = await buildTestImage({ label: `${a}-${i}` });
    await writeTestImage(store, image, `${a}-${i}`);
  }
  await store.close();
} else if (mode === 'churn' && dir && a) {
  const store = await openLayoutStore(dir, { create: true });
  let n = Number(a) * 1_000_000;
  const step = async (): Promise<void> => {
    n++;
    const image = await buildTestImage({ label: `churn-${n}` });
    await writeTestImage(store, image, `t${n % 7}`);
    const big = Buffer.alloc(64 * 1024 + (n % 1000), n % 251);
    await store.putBlob({ digest: sha256(big), size: big.length }, async () => Readable.from([big.subarray(0, 10_000), big.subarray(10_000)]));
    if (n % 3 === 0) await store.deleteTag(`t${n % 7}`).catch(() => undefined);
    if (n % 5 === 0) await store.gc({ graceMs: 0 });
  };
  await step();
  process.send?.('ready');
  for (;;) await step();
}
