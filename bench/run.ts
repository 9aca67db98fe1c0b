/**
 * `npm run bench`: runs every benchmark scenario in one go and writes BENCHMARKS.md and docs/bench.svg.
 * Benchmarks are not tests: they report ratios against baselines run in the same process; they never fail
 * on time, only when a scenario cannot run.
 *
 * Environment: BENCH_RUNS (runs per figure, default 5; 1 or 2 for a smoke run), BENCH_SECTIONS (a comma list
 * of `core`, `stacks`, `builds`; default all three: a section left out is left out of BENCHMARKS.md too),
 * BENCH_CAIRN_HOME (a cairn home the `builds` section keeps between runs; default a fresh temp one),
 * BENCH_NOTE (a paragraph put at the top of BENCHMARKS.md, e.g. to mark a smoke run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchDockerfiles } from './dockerfile-bench.js';
import { dockerfileReport } from './dockerfile-report.js';
import { benchImageCopy } from './image-copy.js';
import { benchLayerWriter, ensureBenchTree } from './layer-writer.js';
import { benchStackCreate } from './stack-create.js';
import { median, spread } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'core,stacks,builds').split(',').map((x) => x.trim()));
const started = Date.now();
const log = (m: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] bench: ${m}`);

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'not installed';
  }
}

/** Median wall time of starting a command 20 times. */
async function startupMs(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', env });
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function coreSection(): Promise<string> {
  const tree = await ensureBenchTree();
  log(`layer writer vs tar | gzip -1 (${RUNS} runs)…`);
  const layer = await benchLayerWriter({ tree, runs: RUNS });
  log(`image copy vs skopeo copy (${RUNS} runs)…`);
  const copy = await benchImageCopy({ tree, runs: RUNS, layers: 1 });
  const copy4 = await benchImageCopy({ tree, runs: RUNS, layers: 4 });
  const cairnBin = fileURLToPath(new URL('../../bin/cairn', import.meta.url));
  const nodeStart = await startupMs([process.execPath, '-e', '0']);
  const cairnStart = await startupMs([cairnBin, '--version']);
  const skopeoStart = await startupMs(['skopeo', '--version']);
  const { NODE_EXTRA_CA_CERTS: extraCa, ...withoutExtraCa } = process.env;
  const nodeNoCa = extraCa === undefined ? undefined : await startupMs([process.execPath, '-e', '0'], withoutExtraCa);
  return `## OCI core

Tree: a node_modules of about 300 packages (express, typescript, webpack and their dependencies), \`.tmp/bench-tree\`.

| scenario | cairn | baseline | ratio | goal |
|---|---|---|---|---|
| layer writing (tar → gzip -1 → diffID + digest) | ${spread(layer.cairnMs)} | \`tar -c --sort=name \\| gzip -1 \\| sha256sum\`: ${spread(layer.baselineMs)} | ${layer.ratio.toFixed(2)}× the baseline's speed | ≥ 0.8× |
| push to a loopback registry, 1 layer (${(copy.imageBytes / 2 ** 20).toFixed(1)} MiB) | ${spread(copy.cairnMs)} | \`skopeo copy\`: ${spread(copy.skopeoMs)} | ${copy.ratio.toFixed(2)}× skopeo's time | ≤ 1.1× |
| push to a loopback registry, 4 layers (${(copy4.imageBytes / 2 ** 20).toFixed(1)} MiB) | ${spread(copy4.cairnMs)} | \`skopeo copy\`: ${spread(copy4.skopeoMs)} | ${copy4.ratio.toFixed(2)}× skopeo's time | ≤ 1.1× |

Process start-up, which every push above includes (median of 20): \`node -e 0\` ${nodeStart.toFixed(0)} ms${nodeNoCa !== undefined ? ` (${nodeNoCa.toFixed(0)} ms
without NODE_EXTRA_CA_CERTS, which this machine sets for its TLS proxy: Node.js 20 parses every certificate in it
before running any code)` : ''}, \`cairn --version\` ${cairnStart.toFixed(0)} ms, \`skopeo --version\` ${skopeoStart.toFixed(0)} ms. \`bin/cairn\` keeps
NODE_EXTRA_CA_CERTS from Node.js and cairn reads the file on its first TLS connection, so a command that makes none
does not pay for it; a command loads only its own code (\`cairn --version\` none of the commands'). Node.js's own
start-up is a floor that a Go binary does not pay; it weighs most on small pushes.
`;
}

async function stacksSection(): Promise<string> {
  log('stack create, cold and warm…');
  const stack = await benchStackCreate();
  return `## Stacks

| scenario | time | goal |
|---|---|---|
| \`cairn stack create\` of stacks/tiny, cold (empty cairn home: indexes and .debs downloaded, build image configured) | ${(stack.coldMs / 1000).toFixed(1)} s | < 3 min |
| the same, warm (layer cache) | ${(stack.warmMs / 1000).toFixed(1)} s | < 20 s |
`;
}

async function buildsSection(): Promise<{ markdown: string; versions: string }> {
  const r = await benchDockerfiles(RUNS, log);
  const report = dockerfileReport(r);
  const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
  await mkdir(docs, { recursive: true });
  await writeFile(join(docs, 'bench.svg'), report.svg);
  const markdown = `## Against Dockerfile builds

Every scenario of issue 8 in one run, cairn beside Dockerfile baselines built with \`podman build\` and with
\`docker build\` (legacy builder) on a private dockerd the bench starts. The chart of the medians:
[docs/bench.svg](docs/bench.svg).

![cairn vs Dockerfile builds](docs/bench.svg)

- cairn builds with its default builder \`cairn/builder:bookworm\` (stacks/tiny: Debian 12 build image, distroless-style
  run image; node from the npm registry), made in the bench's own cairn home by a warm-up build, as a user's first build makes it.
- The Dockerfiles' base is a node:16-slim equivalent made by the bench (Docker Hub is not reachable here): Debian 12
  with every Essential package (bench/stacks/slim, like debian:bookworm-slim) plus node ${r.versions.node} and npm ${r.versions.npm}
  from the npm registry in /usr/local, \`CMD ["node"]\`, run as root.
- Dockerfile A (the seed's): \`COPY package.json\`, \`COPY src\`, \`RUN npm install\`, \`CMD ["npm", "start"]\`. Dockerfile C:
  \`COPY package.json package-lock.json\`, \`RUN npm ci\`, \`COPY src\`. The TypeScript app also copies tsconfig.json
  and runs \`npm run build\` after its sources. Both are written by bench/dockerfiles.ts.
- **The one extra the baselines need here:** npm reaches the registry through a TLS-intercepting proxy, so each
  Dockerfile copies the host's CA bundle (\`bench-ca.crt\`, a layer of ${(r.caBytes / 1e6).toFixed(2)} MB) and passes it to npm with
  \`ARG NODE_EXTRA_CA_CERTS\` (build-time only). cairn gets the same bundle with \`--build-ca-cert\`, which never
  reaches the image. Both build with the host network.
- Apps: ${r.apps.map((a) => `${a.name} (${a.packages} packages in its lockfile)`).join(', ')}: the seed app, and bench/apps/large (express, a
  TypeScript build with tsc, eslint and friends as devDependencies).

${report.markdown}`;
  return { markdown, versions: `${r.versions.engines.join('; ')}; node ${r.versions.node} and npm ${r.versions.npm} in the baselines' base` };
}

const sections: string[] = [];
let extraVersions = '';
if (SECTIONS.has('core')) sections.push(await coreSection());
if (SECTIONS.has('stacks')) sections.push(await stacksSection());
if (SECTIONS.has('builds')) {
  const b = await buildsSection();
  sections.push(b.markdown);
  extraVersions = `; ${b.versions}`;
}

const md = `# Benchmarks

Written by \`npm run bench\` (${RUNS} runs per figure, interleaved with the baseline; median with min–max).
Ratios are measured in one run on one machine; the goals come from the issues.${process.env.BENCH_NOTE ? `\n\n${process.env.BENCH_NOTE}` : ''}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.
Versions: ${version('tar', ['--version'])}; ${version('gzip', ['--version'])}; ${version('skopeo', ['--version'])}; docker-registry ${version('dpkg-query', ['-W', '-f=${Version}', 'docker-registry'])}${extraVersions}.

${sections.join('\n')}`;
await writeFile(join(process.cwd(), 'BENCHMARKS.md'), md);
console.log(md);
