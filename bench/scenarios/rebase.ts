/**
 * Scenario 3 of issue 8 (the seed app): the base image changes (a patched run image / FROM image: one extra
 * layer, new in every run). cairn: `cairn rebase` of the app image in the loopback registry onto the new run
 * image there. Baselines: Dockerfile C rebuilt on the new base (its layer cache no longer applies) and pushed
 * to the same registry. Both go through the counting proxy, which gives the bytes each uploaded.
 */
import { RUN_IMAGE } from '../cairn-home.js';
import { NODE_BASE, patchImage } from '../base-images.js';
import { type BenchContext, loadIntoEngines, uploadedSince } from '../context.js';
import type { BenchApp } from '../dockerfiles.js';
import { engineTag } from './rebuild.js';

export interface RebaseResult {
  /** Series (`cairn rebase`, `podman C`, `docker C`) → wall times (baselines: rebuild + push). */
  ms: Record<string, number[]>;
  /** Series → bytes uploaded per run. */
  uploaded: Record<string, number[]>;
}

export async function benchRebase(ctx: BenchContext, app: BenchApp, cairnImage: string): Promise<RebaseResult> {
  const reg = ctx.registry.host;
  const proxy = ctx.proxy.host;
  const insecure = ['--insecure-registry', reg, '--insecure-registry', proxy];
  const context = ctx.contexts.get(app.name)!;
  // The starting point in the registry: the app on today's base, for cairn and for each engine.
  await ctx.bench.cairn(['image', 'copy', RUN_IMAGE, `${reg}/cairn/run:tiny`, ...insecure]);
  await ctx.bench.cairn(['image', 'copy', cairnImage, `${reg}/bench/${app.name}-cairn:1`, ...insecure]);
  for (const e of ctx.engines) await e.push(engineTag(app, 'C'), `${proxy}/bench/${app.name}-${e.name}:1`);
  const ms: Record<string, number[]> = {};
  const uploaded: Record<string, number[]> = {};
  const record = (key: string, t: number, from: number) => {
    (ms[key] ??= []).push(t);
    (uploaded[key] ??= []).push(uploadedSince(ctx, from));
  };
  for (let i = 0; i < ctx.runs; i++) {
    ctx.log(`${app.name}: base image change ${i + 1}/${ctx.runs}`);
    const runV2 = `cairn/run:tiny-patch${i + 1}`;
    await patchImage(ctx.bench, RUN_IMAGE, runV2, i + 1);
    await ctx.bench.cairn(['image', 'copy', runV2, `${reg}/cairn/run:patch${i + 1}`, ...insecure]);
    let from = ctx.proxy.records.length;
    const r = await ctx.bench.cairn(['rebase', `${proxy}/bench/${app.name}-cairn:1`, '--run-image', `${proxy}/cairn/run:patch${i + 1}`, '--force', '--json', ...insecure]);
    record('cairn rebase', r.ms, from);
    const baseV2 = `${NODE_BASE}-patch${i + 1}`;
    await patchImage(ctx.bench, NODE_BASE, baseV2, i + 1);
    await loadIntoEngines(ctx, baseV2, NODE_BASE);
    for (const e of ctx.engines) {
      from = ctx.proxy.records.length;
      const built = await e.build(context, 'Dockerfile.C', engineTag(app, 'C'));
      const pushed = await e.push(engineTag(app, 'C'), `${proxy}/bench/${app.name}-${e.name}:1`);
      record(`${e.name} C`, built + pushed, from);
    }
  }
  await loadIntoEngines(ctx, NODE_BASE, NODE_BASE);
  return { ms, uploaded };
}
