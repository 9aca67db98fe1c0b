/**
 * The two entry points a bundled buildpack calls (`bin/detect.mjs`, `bin/build.mjs`), and what they write.
 *
 * Exit codes (digest §2.2, §2.3): detect exits 0 when it passes (after writing the Build Plan to
 * `CNB_BUILD_PLAN_PATH`), 100 when it does not apply, 1 on an error; build exits 0 after writing its layers'
 * `.toml` files, `launch.toml`, `build.toml` and `store.toml`, else 1 with the failure printed (the lifecycle
 * then exits 51 and shows the output). The process environment and working directory are passed in by the
 * bundle's stub, never read here.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as stringifyToml } from 'smol-toml';
import { type BuildContextBase, type DetectContext, type Env, readBuildContextBase, readDetectContext } from './context.js';
import { formatFailure } from './errors.js';
import { Layer, type LayerOptions } from './layer.js';
import { createLogger, type Logger } from './log.js';

export interface Io {
  env: Env;
  cwd: string;
  /** Milliseconds since the Unix epoch (the stub passes Date.now): durations in the output, node-engine's re-check interval. */
  now?: () => number;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Provide {
  name: string;
}

export interface Require {
  name: string;
  metadata?: Record<string, unknown>;
}

export interface BuildPlan {
  provides: Provide[];
  requires: Require[];
  /** Alternatives, tried in order when the main pair cannot be resolved. */
  or?: { provides: Provide[]; requires: Require[] }[];
}

export type DetectResult = { pass: false; reason?: string } | { pass: true; plan?: BuildPlan };

export interface Process {
  type: string;
  command: string[];
  args?: string[];
  default?: boolean;
  workingDir?: string;
  execEnv?: string[];
}

export interface BuildResult {
  processes?: Process[];
  labels?: { key: string; value: string }[];
  slices?: { paths: string[] }[];
  /** Plan entry names this buildpack leaves to the next provider (build.toml `[[unmet]]`). */
  unmet?: string[];
  /** store.toml `[metadata]`: kept across builds in the image. */
  store?: Record<string, unknown>;
}

export interface BuildContext extends BuildContextBase {
  /** Opens a layer of this buildpack (see Layer). Opened layers are committed after `build` returns. */
  layer(name: string, opts: LayerOptions): Promise<Layer>;
}

export const DETECT_PASS = 0;
export const DETECT_FAIL = 100;
export const ERROR = 1;

function planToToml(plan: BuildPlan): string {
  const pair = (p: { provides: Provide[]; requires: Require[] }) => ({
    provides: p.provides.map((x) => ({ name: x.name })),
    requires: p.requires.map((r) => (r.metadata && Object.keys(r.metadata).length > 0 ? { name: r.name, metadata: r.metadata } : { name: r.name })),
  });
  return `${stringifyToml({ ...pair(plan), ...(plan.or?.length ? { or: plan.or.map(pair) } : {}) })}\n`;
}

export async function runDetect(fn: (ctx: DetectContext) => Promise<DetectResult>, io: Io): Promise<number> {
  const log = createLogger(io.stdout, io.stderr);
  try {
    const ctx = await readDetectContext(io.env, io.cwd, log, io.now);
    const r = await fn(ctx);
    if (!r.pass) {
      if (r.reason) log.info(`${ctx.buildpack.id}: ${r.reason}`);
      return DETECT_FAIL;
    }
    if (r.plan) await writeFile(ctx.buildPlanPath, planToToml(r.plan));
    return DETECT_PASS;
  } catch (e) {
    io.stderr(formatFailure(e));
    return ERROR;
  }
}

function launchToml(r: BuildResult): string | undefined {
  const processes = (r.processes ?? []).map((p) => ({
    type: p.type,
    command: p.command,
    args: p.args ?? [],
    default: p.default ?? false,
    ...(p.workingDir ? { 'working-dir': p.workingDir } : {}),
    ...(p.execEnv?.length ? { 'exec-env': p.execEnv } : {}),
  }));
  const t = {
    ...(r.labels?.length ? { labels: r.labels } : {}),
    ...(processes.length ? { processes } : {}),
    ...(r.slices?.length ? { slices: r.slices } : {}),
  };
  return Object.keys(t).length ? `${stringifyToml(t)}\n` : undefined;
}

export async function runBuild(fn: (ctx: BuildContext) => Promise<BuildResult>, io: Io): Promise<number> {
  const log: Logger = createLogger(io.stdout, io.stderr);
  try {
    const base = await readBuildContextBase(io.env, io.cwd, log, io.now);
    log.title(`${base.buildpack.name} ${base.buildpack.version}`);
    const opened = new Map<string, Layer>();
    const ctx: BuildContext = {
      ...base,
      async layer(name, opts) {
        if (opened.has(name)) throw new Error(`internal: layer ${name} opened twice`);
        const l = await Layer.open(base.layersDir, name, opts);
        opened.set(name, l);
        return l;
      },
    };
    const r = await fn(ctx);
    for (const l of opened.values()) await l.commit();
    const launch = launchToml(r);
    if (launch) await writeFile(join(base.layersDir, 'launch.toml'), launch);
    if (r.unmet?.length) await writeFile(join(base.layersDir, 'build.toml'), `${stringifyToml({ unmet: r.unmet.map((name) => ({ name })) })}\n`);
    if (r.store && Object.keys(r.store).length) await writeFile(join(base.layersDir, 'store.toml'), `${stringifyToml({ metadata: r.store })}\n`);
    return 0;
  } catch (e) {
    io.stderr(formatFailure(e));
    return ERROR;
  }
}
