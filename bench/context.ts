/**
 * What every Dockerfile-comparison scenario shares: the run count, a work folder, the bench's cairn home,
 * the two engines, the loopback registry (with a counting proxy in front of it), and the apps with their
 * prepared Docker build contexts.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CountingProxy } from '../test/helpers/counting-proxy.js';
import type { RunningRegistry } from '../test/helpers/docker-registry.js';
import { BUILDER, type BenchHome } from './cairn-home.js';
import type { BenchApp } from './dockerfiles.js';
import type { Engine } from './engines.js';

export interface BenchContext {
  runs: number;
  work: string;
  bench: BenchHome;
  engines: Engine[];
  registry: RunningRegistry;
  proxy: CountingProxy;
  apps: BenchApp[];
  /** App name → its Docker build context (Dockerfile.A, Dockerfile.C, the CA bundle, the app). */
  contexts: Map<string, string>;
  log(message: string): void;
}

/** A fresh copy of the app's folder under the work folder. */
export async function freshCopy(ctx: BenchContext, app: BenchApp, label: string): Promise<string> {
  const dir = await mkdtemp(join(ctx.work, `${app.name}-${label}-`));
  await cp(app.dir, dir, { recursive: true, filter: (src) => !/\/(node_modules|dist)$/.test(src) });
  return dir;
}

/**
 * `cairn build IMAGE --path DIR` with cairn's default builder; returns the wall time, the digest, the
 * lifecycle's phase times (from its `===> PHASE done in S s` lines), the profile of where the time goes, and
 * how many bin/builds ran (its `building ID@VERSION` lines).
 */
export async function cairnBuild(ctx: BenchContext, image: string, dir: string, extra: string[] = []): Promise<{ ms: number; digest: string; phases: Record<string, number>; binBuilds: number }> {
  const r = await ctx.bench.cairn(['build', image, '--path', dir, '--builder', BUILDER, '--build-ca-cert', ctx.bench.caCert, ...extra]);
  const digest = /digest (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
  if (!digest) throw new Error(`cairn build printed no digest:\n${r.stdout}`);
  const phases: Record<string, number> = {};
  for (const m of r.stderr.matchAll(/^===> (\w+) done in ([\d.]+) s$/gm)) phases[m[1]!.toLowerCase()] = Number(m[2]) * 1000;
  return { ms: r.ms, digest, phases, binBuilds: r.stderr.match(/^building \S+@\S+$/gm)?.length ?? 0 };
}

/** Bytes a client sent to the registry through the proxy since `from` (an index into its records). */
export function uploadedSince(ctx: BenchContext, from: number): number {
  return ctx.proxy.records.slice(from).filter((r) => r.method === 'PUT' || r.method === 'PATCH' || r.method === 'POST').reduce((n, r) => n + r.requestBytes, 0);
}

/** Copies `ref` from the bench's cairn home into every engine as `name` (through a docker-archive). */
export async function loadIntoEngines(ctx: BenchContext, ref: string, name: string): Promise<void> {
  const file = join(ctx.work, 'load.tar');
  await ctx.bench.cairn(['image', 'copy', ref, `docker-archive:${file}:${name}`]);
  for (const e of ctx.engines) await e.cli(['load', '-q', '-i', file]);
  await rm(file, { force: true });
}
