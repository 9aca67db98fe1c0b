/**
 * Scenario 4 of issue 8, per app: a cold cairn build (a fresh copy of the app, a new image name, an empty build
 * cache; the builder is there) against the floor of any Node.js build: fetching node 16 and npm 8 from the
 * npm registry, then `npm ci` (and `npm run build` when the app has a build script) with an empty npm cache,
 * run by that node and npm. Interleaved, in the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchContext, cairnBuild, freshCopy } from '../context.js';
import type { BenchApp } from '../dockerfiles.js';
import { fetchNode16 } from '../node16.js';

export interface ColdResult {
  cairnMs: number[];
  floorMs: number[];
  /** cairn's lifecycle phase → its time in each run. */
  cairnPhases: Record<string, number[]>;
}

async function floor(ctx: BenchContext, app: BenchApp, i: number): Promise<number> {
  const dir = await freshCopy(ctx, app, `floor${i}`);
  const tools = await mkdtemp(join(ctx.work, 'floor-tools-'));
  const cache = await mkdtemp(join(ctx.work, 'floor-npm-cache-'));
  try {
    const t0 = performance.now();
    const node16 = await fetchNode16(tools, cache);
    await node16.npm(['ci', '--no-audit', '--no-fund'], dir);
    if (app.build) await node16.npm(['run', 'build'], dir);
    return performance.now() - t0;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(tools, { recursive: true, force: true });
    await rm(cache, { recursive: true, force: true });
  }
}

export async function benchCold(ctx: BenchContext, app: BenchApp): Promise<ColdResult> {
  const cairnMs: number[] = [];
  const floorMs: number[] = [];
  const cairnPhases: Record<string, number[]> = {};
  for (let i = 0; i < ctx.runs; i++) {
    ctx.log(`${app.name}: cold build ${i + 1}/${ctx.runs}`);
    floorMs.push(await floor(ctx, app, i));
    const dir = await freshCopy(ctx, app, `cold${i}`);
    const built = await cairnBuild(ctx, `bench-${app.name}-cold${i}`, dir, ['--clear-cache']);
    cairnMs.push(built.ms);
    for (const [phase, ms] of Object.entries(built.phases)) (cairnPhases[phase] ??= []).push(ms);
    await rm(dir, { recursive: true, force: true });
  }
  return { cairnMs, floorMs, cairnPhases };
}
