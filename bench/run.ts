/**
 * `npm run bench`: runs every benchmark scenario in one go and writes BENCHMARKS.md.
 * Benchmarks are not tests: they report ratios against baselines run in the same process; they never fail
 * on time, only when a scenario cannot run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchImageCopy } from './image-copy.js';
import { benchLayerWriter, ensureBenchTree } from './layer-writer.js';
import { benchStackCreate } from './stack-create.js';
import { median, spread } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'not installed';
  }
}

/** Median wall time of starting a command 20 times. */
async function startupMs(argv: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    times.push(performance.now() - t0);
  }
  return median(times);
}

const tree = await ensureBenchTree();
console.log(`bench: layer writer vs tar | gzip -1 (${RUNS} runs)…`);
const layer = await benchLayerWriter({ tree, runs: RUNS });
console.log(`bench: image copy vs skopeo copy (${RUNS} runs)…`);
const copy = await benchImageCopy({ tree, runs: RUNS, layers: 1 });
const copy4 = await benchImageCopy({ tree, runs: RUNS, layers: 4 });
console.log('bench: stack create, cold and warm…');
const stack = await benchStackCreate();
const nodeStart = await startupMs([process.execPath, '-e', '0']);
const cairnStart = await startupMs([process.execPath, fileURLToPath(new URL('../../bin/cairn.js', import.meta.url)), '--version']);
const skopeoStart = await startupMs(['skopeo', '--version']);

const md = `# Benchmarks

Written by \`npm run bench\` (${RUNS} runs per figure, interleaved with the baseline; median with min–max).
Ratios are measured in one run on one machine; the goals come from the issues.

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.
Versions: ${version('tar', ['--version'])}; ${version('gzip', ['--version'])}; ${version('skopeo', ['--version'])}; docker-registry ${version('dpkg-query', ['-W', '-f=${Version}', 'docker-registry'])}.

## OCI core

Tree: a node_modules of about 300 packages (express, typescript, webpack and their dependencies), \`.tmp/bench-tree\`.

| scenario | cairn | baseline | ratio | goal |
|---|---|---|---|---|
| layer writing (tar → gzip -1 → diffID + digest) | ${spread(layer.cairnMs)} | \`tar -c --sort=name \\| gzip -1 \\| sha256sum\`: ${spread(layer.baselineMs)} | ${layer.ratio.toFixed(2)}× the baseline's speed | ≥ 0.8× |
| push to a loopback registry, 1 layer (${(copy.imageBytes / 2 ** 20).toFixed(1)} MiB) | ${spread(copy.cairnMs)} | \`skopeo copy\`: ${spread(copy.skopeoMs)} | ${copy.ratio.toFixed(2)}× skopeo's time | ≤ 1.1× |
| push to a loopback registry, 4 layers (${(copy4.imageBytes / 2 ** 20).toFixed(1)} MiB) | ${spread(copy4.cairnMs)} | \`skopeo copy\`: ${spread(copy4.skopeoMs)} | ${copy4.ratio.toFixed(2)}× skopeo's time | ≤ 1.1× |

Process start-up, which every push above includes (median of 20): \`node -e 0\` ${nodeStart.toFixed(0)} ms, \`cairn --version\`
${cairnStart.toFixed(0)} ms, \`skopeo --version\` ${skopeoStart.toFixed(0)} ms. Node.js's own start-up is a floor that a Go binary does not
pay; it weighs most on small pushes.

## Stacks

| scenario | time | goal |
|---|---|---|
| \`cairn stack create\` of stacks/tiny, cold (empty cairn home: indexes and .debs downloaded, build image configured) | ${(stack.coldMs / 1000).toFixed(1)} s | < 3 min |
| the same, warm (layer cache) | ${(stack.warmMs / 1000).toFixed(1)} s | < 20 s |
`;
await writeFile(join(process.cwd(), 'BENCHMARKS.md'), md);
console.log(md);
