/**
 * The comparison with Dockerfile builds (issue 8), every scenario in one go: sets up the bench's cairn home
 * (stacks, default builder), the node 16 base in podman and in a private dockerd, a loopback registry behind
 * a counting proxy, and the two apps (the seed app and bench/apps/large); then runs the scenarios and tears
 * everything down.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CountingProxy } from '../test/helpers/counting-proxy.js';
import { startDockerRegistry } from '../test/helpers/docker-registry.js';
import { makeNodeBase, NODE_BASE } from './base-images.js';
import { prepareCairnHome } from './cairn-home.js';
import { type BenchContext, loadIntoEngines } from './context.js';
import { type BenchApp, prepareContext } from './dockerfiles.js';
import { type Engine, startDocker, startPodman } from './engines.js';
import { benchCold, type ColdResult } from './scenarios/cold.js';
import { benchLauncher, type LauncherResult } from './scenarios/launcher.js';
import { benchRebase, type RebaseResult } from './scenarios/rebase.js';
import { benchRebuild, type RebuildResult } from './scenarios/rebuild.js';
import { benchSandboxStart, type SandboxStartResult } from './scenarios/sandbox-start.js';
import { benchReproducible } from './scenarios/reproducible.js';
import { benchSize, type ImageSize } from './scenarios/size.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DockerfileBench {
  runs: number;
  versions: { node: string; npm: string; engines: string[] };
  /** The size of the CA bundle the Dockerfiles copy in. */
  caBytes: number;
  apps: { name: string; packages: number }[];
  rebuild: RebuildResult[];
  size: Record<string, Record<string, ImageSize>>;
  cold: Record<string, ColdResult>;
  rebase: RebaseResult;
  launcher: LauncherResult;
  sandboxStart: SandboxStartResult;
  reproducible: Record<string, string[]>;
}

/** The seed app: examples/seed once the lead lands it, else the buildpacks' test fixture. */
function apps(): BenchApp[] {
  const seed = join(ROOT, 'examples/seed');
  return [
    { name: 'seed', dir: seed, sources: ['src'], changeFile: 'src/index.js', build: false },
    { name: 'large', dir: join(ROOT, 'bench/apps/large'), sources: ['tsconfig.json', 'src'], changeFile: 'src/index.ts', build: true },
  ];
}

async function lockPackages(dir: string): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  return Object.keys(lock.packages).length - 1;
}

export async function benchDockerfiles(runs: number, log: (m: string) => void): Promise<DockerfileBench> {
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-builds-'));
  const engines: Engine[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    log('builds: cairn home (stacks, default builder)…');
    const bench = await prepareCairnHome(work);
    log('builds: node 16 base image…');
    const versions = await makeNodeBase(bench, work);
    log('builds: podman, dockerd, registry…');
    engines.push(await startPodman());
    stops.push(() => engines[0]!.stop());
    engines.push(await startDocker());
    stops.push(() => engines[1]!.stop());
    const registry = await startDockerRegistry();
    stops.push(() => registry.stop());
    const proxy = await CountingProxy.start(registry.host);
    stops.push(() => proxy.stop());
    const list = apps();
    const contexts = new Map<string, string>();
    for (const app of list) contexts.set(app.name, await prepareContext(app, join(work, `context-${app.name}`), bench.caCert));
    const ctx: BenchContext = { runs, work, bench, engines, registry, proxy, apps: list, contexts, log: (m) => log(`builds: ${m}`) };
    await loadIntoEngines(ctx, NODE_BASE, NODE_BASE);

    const rebuild: RebuildResult[] = [];
    const size: Record<string, Record<string, ImageSize>> = {};
    const cold: Record<string, ColdResult> = {};
    for (const app of list) {
      const r = await benchRebuild(ctx, app);
      rebuild.push(r);
      size[app.name] = await benchSize(ctx, app, r.cairnImage);
    }
    const seed = list[0]!;
    const launcher = await benchLauncher(ctx, engines[0]!, rebuild[0]!.cairnImage);
    const sandboxStart = await benchSandboxStart(ctx);
    for (const app of list) cold[app.name] = await benchCold(ctx, app);
    const reproducible = await benchReproducible(ctx, seed);
    const rebase = await benchRebase(ctx, seed, rebuild[0]!.cairnImage);
    return {
      runs,
      versions: { ...versions, engines: engines.map((e) => e.version) },
      caBytes: statSync(bench.caCert).size,
      apps: await Promise.all(list.map(async (a) => ({ name: a.name, packages: await lockPackages(a.dir) }))),
      rebuild, size, cold, rebase, launcher, sandboxStart, reproducible,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}
