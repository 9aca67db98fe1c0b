/**
 * Scenario 6 of issue 8 (the seed app's cairn image, in podman): start-up through the launcher against
 * running the same program directly. Both run `node -e 0` in the image: once as
 * `/cnb/lifecycle/launcher -- node -e 0` (the launcher applies the buildpacks' launch env, finds node on the
 * PATH it builds, and execs it), once with node's own path as the entrypoint. Interleaved; the difference of
 * the medians is the launcher's overhead. Container start-up is in both and cancels out. The launcher path
 * includes the exec.d programs of the image (none by default; node-engine's heap sizing is opt-in).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import type { Engine } from '../engines.js';

export interface LauncherResult {
  launcherMs: number[];
  directMs: number[];
}

const NODE = '/layers/cairn_node-engine/node/bin/node';

export async function benchLauncher(ctx: BenchContext, podman: Engine, cairnImage: string): Promise<LauncherResult> {
  const file = join(ctx.work, 'launcher.tar');
  const tag = 'localhost/bench/launcher:cairn';
  await ctx.bench.cairn(['image', 'copy', cairnImage, `docker-archive:${file}:${tag}`]);
  await podman.cli(['load', '-q', '-i', file]);
  await rm(file, { force: true });
  const launcherMs: number[] = [];
  const directMs: number[] = [];
  const n = Math.max(20, 4 * ctx.runs);
  ctx.log(`launcher start-up: ${n} container starts each way`);
  await podman.cli(['run', '--rm', '--network', 'host', '--entrypoint', NODE, tag, '-e', '0']); // warm; not counted
  for (let i = 0; i < n; i++) {
    launcherMs.push((await podman.cli(['run', '--rm', '--network', 'host', '--entrypoint', '/cnb/lifecycle/launcher', tag, '--', 'node', '-e', '0'])).ms);
    directMs.push((await podman.cli(['run', '--rm', '--network', 'host', '--entrypoint', NODE, tag, '-e', '0'])).ms);
  }
  return { launcherMs, directMs };
}
