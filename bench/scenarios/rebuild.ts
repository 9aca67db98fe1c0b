/**
 * Scenarios 1 and 2 of issue 8, per app: a no-op rebuild with everything warm, and a rebuild after a one-line
 * source change. cairn rebuilds the same image name (its build cache and previous image are warm); the
 * baselines rebuild Dockerfile A and C with podman's layer cache and with the warm private dockerd.
 * Runs are interleaved (each tool once per run) so all see the same machine load. For an app with a build
 * script, each change run also times that script alone (`npm run build` with node 16, in an installed copy
 * with the same change): what any tool that runs it cannot go below.
 */
import { appendFile, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchApp } from '../dockerfiles.js';
import { type BenchContext, cairnBuild, freshCopy } from '../context.js';
import { fetchNode16 } from '../node16.js';

/** The series of the build script run alone, in `change`. */
export const BUILD_SCRIPT_ALONE = 'npm run build alone';

export interface RebuildResult {
  app: string;
  /** The first build of each: cairn's (an empty build cache) and each engine's A and C. */
  firstMs: Record<string, number>;
  /** Series name (`cairn`, `podman C`, `docker A`, …) → wall times. */
  noop: Record<string, number[]>;
  change: Record<string, number[]>;
  /** cairn's lifecycle phase → times, for the no-op and the change rebuilds. */
  noopPhases: Record<string, number[]>;
  changePhases: Record<string, number[]>;
  /** How many bin/builds a change rebuild ran (one per buildpack of the group). */
  changeBinBuilds: number;
  /** The folder cairn builds from, and its image name (the later scenarios reuse both). */
  cairnDir: string;
  cairnImage: string;
}

export function engineTag(app: BenchApp, kind: string): string {
  return `bench/${app.name}:${kind.toLowerCase()}`;
}

export async function benchRebuild(ctx: BenchContext, app: BenchApp): Promise<RebuildResult> {
  const context = ctx.contexts.get(app.name)!;
  const cairnDir = await freshCopy(ctx, app, 'cairn');
  const cairnImage = `bench-${app.name}`;
  const firstMs: Record<string, number> = {};
  ctx.log(`${app.name}: first builds`);
  firstMs.cairn = (await cairnBuild(ctx, cairnImage, cairnDir)).ms;
  for (const e of ctx.engines) for (const kind of ['A', 'C']) firstMs[`${e.name} ${kind}`] = await e.build(context, `Dockerfile.${kind}`, engineTag(app, kind));
  const push = (rec: Record<string, number[]>, key: string, ms: number) => (rec[key] ??= []).push(ms);
  const noop: Record<string, number[]> = {};
  const change: Record<string, number[]> = {};
  const noopPhases: Record<string, number[]> = {};
  const changePhases: Record<string, number[]> = {};
  let changeBinBuilds = 0;
  /** One cairn rebuild into `series` and `phases`; returns how many bin/builds it ran. */
  const cairn = async (series: Record<string, number[]>, phases: Record<string, number[]>): Promise<number> => {
    const r = await cairnBuild(ctx, cairnImage, cairnDir);
    push(series, 'cairn', r.ms);
    for (const [phase, ms] of Object.entries(r.phases)) push(phases, phase, ms);
    return r.binBuilds;
  };
  for (let i = 0; i < ctx.runs; i++) {
    ctx.log(`${app.name}: no-op rebuild ${i + 1}/${ctx.runs}`);
    await cairn(noop, noopPhases);
    for (const e of ctx.engines) for (const kind of ['C', 'A']) push(noop, `${e.name} ${kind}`, await e.build(context, `Dockerfile.${kind}`, engineTag(app, kind)));
  }
  const script = app.build ? await installedCopy(ctx, app) : undefined;
  for (let i = 0; i < ctx.runs; i++) {
    ctx.log(`${app.name}: one-line change ${i + 1}/${ctx.runs}`);
    const line = `// bench change ${i + 1}\n`;
    await appendFile(join(cairnDir, app.changeFile), line);
    await appendFile(join(context, app.changeFile), line);
    changeBinBuilds = await cairn(change, changePhases);
    // The start-up floor counts them: a change rebuild runs at least one, so none means cairn's output changed.
    if (changeBinBuilds === 0) throw new Error(`a change rebuild of ${app.name} printed no "building ID@VERSION" line`);
    for (const e of ctx.engines) for (const kind of ['C', 'A']) push(change, `${e.name} ${kind}`, await e.build(context, `Dockerfile.${kind}`, engineTag(app, kind)));
    if (script) {
      await appendFile(join(script.dir, app.changeFile), line);
      push(change, BUILD_SCRIPT_ALONE, (await script.node16.npm(['run', 'build'], script.dir)).ms);
    }
  }
  return { app: app.name, firstMs, noop, change, noopPhases, changePhases, changeBinBuilds, cairnDir, cairnImage };
}

/** A copy of the app with its dependencies installed by node 16's npm, and its build script run once. */
async function installedCopy(ctx: BenchContext, app: BenchApp) {
  const dir = await freshCopy(ctx, app, 'script');
  const node16 = await fetchNode16(await mkdtemp(join(ctx.work, 'script-tools-')), await mkdtemp(join(ctx.work, 'script-npm-cache-')));
  await node16.npm(['ci', '--no-audit', '--no-fund'], dir);
  await node16.npm(['run', 'build'], dir);
  return { dir, node16 };
}
