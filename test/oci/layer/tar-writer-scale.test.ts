/**
 * writeLayer at scale: a 3 GiB sparse file and a 100k-file tree stream through with bounded memory
 * (the big file first, so its baseline is not inflated by the other test's heap).
 * Memory is the growth of process RSS over a baseline taken after a full GC, sampled every 5 ms while the
 * layer is written. Both layers are checked for exact tar sizes; the big one also for its diffID, computed
 * here independently from a hand-made header and zeros.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { writeLayer, type LayerWriteResult } from '../../../src/oci/layer/tar-writer.js';
import { rawHeader } from './tar-craft.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let top: string;
before(async () => {
  top = await mkdtemp(join(tmpdir(), 'cairn-writer-scale-'));
});
after(async () => {
  await rm(top, { recursive: true, force: true });
});

/** Writes the layer to a byte-counting sink; returns the result and the peak RSS growth in bytes. */
async function measured(source: string): Promise<{ r: LayerWriteResult; growth: number; ms: number }> {
  let written = 0;
  const sink = new Writable({ write: (c: Buffer, _e, cb) => ((written += c.length), cb()) });
  gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  try {
    const r = await writeLayer([{ type: 'tree', source }], sink);
    assert.equal(written, r.size);
    return { r, growth: Math.max(peak, process.memoryUsage().rss) - base, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

const MiB = 1024 * 1024;

test('a 3 GiB sparse file streams with bounded memory and the right diffID', async () => {
  const src = join(top, 'big');
  const size = 3 * 1024 * MiB; // past 2^31, so positions above the int32 range are exercised
  await rm(src, { recursive: true, force: true });
  mkdirSync(src);
  await writeFile(join(src, 'big'), '');
  await truncate(join(src, 'big'), size);
  const { r, growth, ms } = await measured(src);
  assert.equal(r.tarSize, 512 + size + 1024);
  assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
  const expected = createHash('sha256').update(rawHeader({ name: 'big', mode: 0o644, size, mtime: 315532801 }));
  const zeros = Buffer.alloc(16 * MiB);
  for (let left = size + 1024; left > 0; left -= zeros.length) expected.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  assert.equal(r.diffID, 'sha256:' + expected.digest('hex'));
  process.stderr.write(`# 3 GiB sparse file: ${ms.toFixed(0)} ms, RSS growth ${(growth / MiB).toFixed(0)} MiB\n`);
});

test('100k files stream with bounded memory', async () => {
  const src = join(top, 'many');
  const body = 'export const value = "abcdefghijklmnopqrstuvwxyz0123456789";\n'.repeat(32).slice(0, 2000);
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 1000; f++) writeFileSync(join(src, `d${d}`, `f${f}.js`), body);
  }
  const { r, growth, ms } = await measured(src);
  // 100 directory headers, 100k file headers, 100k bodies of 2000 bytes padded to 2048, end blocks.
  assert.equal(r.tarSize, 100 * 512 + 100_000 * (512 + 2048) + 1024);
  // The plan (paths and metadata) is the only thing that grows with the entry count (≈15 MB live for
  // 100k entries, plus V8 heap headroom); contents are never held: the tar is 256 MB.
  assert.ok(growth < 192 * MiB && growth < r.tarSize * 0.75, `RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
  process.stderr.write(`# 100k files: tar ${(r.tarSize / MiB).toFixed(0)} MiB in ${ms.toFixed(0)} ms, RSS growth ${(growth / MiB).toFixed(0)} MiB\n`);
});
