/**
 * Crash safety of the volume cache: a writer process committing generation after generation is killed with
 * SIGKILL at random moments; after each kill the cache must open, hold no leftovers, and validate fully
 * (metadata without warnings, every listed layer present and matching its diffID), and hold the generation
 * the writer last reported committed, or the one after it (committed but not yet reported).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openVolumeCache } from '../../../src/lifecycle/cache/volume-cache.js';
import { validateCache, warnings } from './helpers.js';

const child = fileURLToPath(new URL('./cache-writer-child.js', import.meta.url));
const KILLS = 30;
const MAX_ROUNDS = 120;
let root: string | undefined;
after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

interface Writer {
  kill(): Promise<string>;
  /** Resolves when the writer announces a commit. */
  committing: Promise<void>;
}

/** Starts the endless writer; resolves once it has opened the cache. */
function startWriter(dir: string, tars: string): Promise<Writer> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, tars, 'bp', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let announced: () => void = () => undefined;
    const committing = new Promise<void>((r) => (announced = r));
    const closed = new Promise<void>((r) => p.on('close', () => r()));
    p.stderr.on('data', (d) => (err += d));
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('committing')) announced();
      if (out.startsWith('ready\n')) resolve({ committing, kill: async () => (p.kill('SIGKILL'), await closed, err ? `${out}\nstderr: ${err}` : out) });
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      announced();
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early (${code}): ${err}`));
    });
  });
}

test(`the volume cache survives ${KILLS} kill -9 of a committing writer`, async (t) => {
  root = await mkdtemp(join(tmpdir(), 'cairn-cache-crash-'));
  const dir = join(root, 'cache');
  const tars = join(root, 'tars');
  await mkdir(tars);
  let generation = 0;
  let sawCommitsAfterKill = 0;
  const states = new Map<string, number>();
  let inCommit = 0;
  // At least KILLS rounds, and more (up to MAX_ROUNDS) until 3 kills have landed inside a commit.
  for (let i = 0; (i < KILLS || inCommit < 3) && i < MAX_ROUNDS; i++) {
    const writer = await startWriter(dir, tars);
    // Even rounds: any moment, from "before the first commit" to "after several". Odd rounds: right as a
    // commit starts (the renames), give or take a few hundred microseconds.
    if (i % 2 === 0) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 120)));
    else {
      await writer.committing;
      for (let spin = Math.random() * 1000; spin > 0; spin--) await new Promise((r) => setImmediate(r));
    }
    const out = await writer.kill();
    assert.doesNotMatch(out, /stderr:/, 'the writer saw no damaged cache');
    const reported = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
    const lastReported = reported.at(-1) ?? generation;
    // What the kill left, before recovery: e.g. "cache.lock,committed,committed-backup,staging".
    const state = (await readdir(dir).catch(() => [])).map((x) => x.replace(/\.\d+\.[0-9a-f]+$/, '')).sort().join(',');
    states.set(state, (states.get(state) ?? 0) + 1);
    if (state.includes('cache.lock')) inCommit++;
    const w = warnings();
    const cache = await openVolumeCache(dir, { warn: w.warn });
    const left = (await readdir(dir)).filter((x) => x !== 'committed');
    assert.deepEqual(left, [], `leftovers after kill ${i}`);
    assert.ok(!existsSync(join(dir, 'committed-backup')));
    const { metadata, layers } = await validateCache(cache, w.list);
    const now = Number(metadata.buildpacks[0]?.version ?? 0);
    assert.ok(now === lastReported || now === lastReported + 1, `kill ${i}: cache holds generation ${now}, writer reported ${lastReported}`);
    assert.ok(now >= generation, 'never goes back to an older generation');
    for (const l of Object.values(metadata.buildpacks[0]?.layers ?? {})) assert.ok(layers.has(l.sha));
    if (now > generation) sawCommitsAfterKill++;
    generation = now;
    // The staging folder of the killed writer is gone; its tars folder is cleaned for the next round.
    for (const f of await readdir(tars)) await rm(join(tars, f));
  }
  t.diagnostic(`folder states found after the kills: ${JSON.stringify(Object.fromEntries(states))}`);
  assert.ok(inCommit >= 3, `only ${inCommit} kills landed inside a commit (holding the lock)`);
  assert.ok(generation > 0, 'some generations were committed');
  assert.ok(sawCommitsAfterKill >= 5, `the kills hit writers at different stages (${sawCommitsAfterKill} rounds committed something)`);
});
