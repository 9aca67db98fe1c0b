/**
 * The bench's own cairn home, made once per `npm run bench`: cairn's default builder `cairn/builder:bookworm`,
 * made the way a user's first `cairn build` makes it (a warm-up build of a throw-away copy of the seed app, so
 * no measured build pays for it), and the bench's slim run image (the Debian part of the Dockerfile baselines'
 * base).
 */
import { cp, mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunOptions, type RunResult } from './exec.js';

/** The package's bin, run as a user runs `cairn` (it runs bin/cairn.js with the node on PATH). */
export const CAIRN = fileURLToPath(new URL('../../bin/cairn', import.meta.url));
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
    run(CAIRN, [...args], { ...opts, env: { ...process.env, ...opts.env, CAIRN_HOME: home } });
  const warm = join(work, 'warm-up');
  await cp(join(ROOT, 'examples', 'seed'), warm, { recursive: true });
  await cairn(['build', 'bench/warm-up', '--path', warm, '--build-ca-cert', caCert]);
  // The slim stack shares the build image's packages (its layer comes from the cache) but labels it with its
  // own stack id, so its build image gets a name of its own.
  await cairn(['stack', 'create', '--config', join(ROOT, 'bench/stacks/slim/stack.toml'), '--build-image', 'bench/slim-build:bookworm', '--run-image', SLIM_IMAGE]);
  return { home, caCert, cairn };
}
