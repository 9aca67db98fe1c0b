/**
 * A cache writer run as a separate process by the crash and concurrency tests.
 *
 *   node cache-writer-child.js <cacheDir> <tmpDir> <key> <generations|0 for endless>
 *
 * Each generation keeps some layers of the previous one (reuseLayer), adds new ones, and commits metadata
 * whose version is the generation number and whose layer data names the writer and generation. After each
 * commit it writes `committing <n>` to stdout, after it `committed <n>`. Generation numbers continue from what the cache holds.
 */
import { writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { openVolumeCache } from '../../../src/lifecycle/cache/volume-cache.js';
import type { CacheMetadata } from '../../../src/lifecycle/cache/cache.js';
import { writeTar } from './helpers.js';

const [cacheDir, tmpDir, key, gens] = process.argv.slice(2) as [string, string, string, string];
const count = Number(gens);
const cache = await openVolumeCache(cacheDir, { warn: (m) => process.stderr.write(`warning: ${m}\n`) });
writeSync(1, 'ready\n');
let rand = Number(process.pid);
const next = (n: number) => {
  rand = (rand * 1103515245 + 12345) % 2147483648;
  return rand % n;
};
for (let i = 0; count === 0 || i < count; i++) {
  const prev = await cache.metadata();
  const gen = Number(prev.buildpacks.find((b) => b.key === key)?.version ?? prev.buildpacks[0]?.version ?? '0') + 1;
  const w = await cache.begin();
  const md: CacheMetadata = { buildpacks: [{ key, version: String(gen), layers: {} }] };
  const layers = md.buildpacks[0]!.layers;
  for (const [name, l] of Object.entries(prev.buildpacks.find((b) => b.key === key)?.layers ?? {})) {
    if (next(2) === 0 && (await w.reuseLayer(l.sha))) layers[name] = l;
  }
  for (let j = 0; j < 3; j++) {
    const name = `l${gen}-${j}`;
    const tar = await writeTar(tmpDir, `${key}-${name}`, [{ path: `layers/${key}/${name}/data`, content: Buffer.alloc(1000 + next(200_000), `${key}${gen}${j}`) }]);
    await w.addLayer(tar.diffID, tar.path);
    await rm(tar.path);
    layers[name] = { sha: tar.diffID, data: { writer: key, gen }, build: false, launch: false, cache: true };
  }
  writeSync(1, `committing ${gen}\n`);
  await w.commit(md);
  writeSync(1, `committed ${gen}\n`);
}
