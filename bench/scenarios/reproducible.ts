/**
 * Scenario 7 of issue 8 (the seed app): reproducibility as a figure. cairn builds N fresh copies of the app
 * into N new image names (so N empty build caches) and reports how many distinct manifest digests it got;
 * the baselines build Dockerfile C N times with `--no-cache` and report how many distinct image IDs.
 */
import { rm } from 'node:fs/promises';
import { type BenchContext, cairnBuild, freshCopy } from '../context.js';
import type { BenchApp } from '../dockerfiles.js';

/** Series (`cairn`, `podman C --no-cache`, …) → the digests of its builds. */
export async function benchReproducible(ctx: BenchContext, app: BenchApp): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const context = ctx.contexts.get(app.name)!;
  const n = Math.max(2, ctx.runs);
  for (let i = 0; i < n; i++) {
    ctx.log(`${app.name}: reproducibility build ${i + 1}/${n}`);
    const dir = await freshCopy(ctx, app, `repro${i}`);
    (out.cairn ??= []).push((await cairnBuild(ctx, `bench-${app.name}-repro${i}`, dir)).digest);
    await rm(dir, { recursive: true, force: true });
    for (const e of ctx.engines) {
      const tag = `bench/${app.name}-repro:${i}`;
      await e.build(context, 'Dockerfile.C', tag, { noCache: true });
      (out[`${e.name} C --no-cache`] ??= []).push(await e.imageId(tag));
    }
  }
  return out;
}
