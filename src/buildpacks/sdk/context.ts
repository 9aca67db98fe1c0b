/**
 * What a buildpack knows when it runs, read from the environment the lifecycle sets (Buildpack API 0.12,
 * digest §2.2 and §2.3): its own folder, the platform folder, the target, the execution environment, the
 * user's build-time variables, and for `bin/build` its layers folder and Buildpack Plan.
 *
 * User variables: the lifecycle puts `<platform>/env/<NAME>` into the process environment unless the
 * buildpack declares `clear-env`; `config(name)` reads the process environment first and the platform file
 * second, so it answers the same either way.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { BuildpackError, messageOf } from './errors.js';
import type { Logger } from './log.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The run image's target (`CNB_TARGET_*`). */
export interface Target {
  os: string;
  /** OCI architecture: `amd64`, `arm64`, … */
  arch: string;
  variant?: string;
  distroName?: string;
  distroVersion?: string;
}

export interface BuildpackInfo {
  id: string;
  version: string;
  name: string;
}

export interface Context {
  /** The application folder: the working directory (`/workspace`). */
  appDir: string;
  buildpackDir: string;
  platformDir: string;
  buildpack: BuildpackInfo;
  target: Target;
  /** `CNB_EXEC_ENV`; `production` when the platform sets none. */
  execEnv: string;
  /** The process environment as the lifecycle gave it. */
  env: Env;
  /** `<platform>/env/<NAME>` files. */
  platformEnv: Readonly<Record<string, string>>;
  log: Logger;
  /** Milliseconds since the Unix epoch (the bundle's stub passes Date.now); 0 when the caller gave no clock. */
  now(): number;
  /** A user setting (`BP_*`): the process environment, else `<platform>/env/<name>`; empty values count as unset. */
  config(name: string): string | undefined;
}

export interface DetectContext extends Context {
  buildPlanPath: string;
}

export interface PlanEntry {
  name: string;
  metadata: Record<string, unknown>;
}

export interface BuildContextBase extends Context {
  /** `CNB_LAYERS_DIR`: this buildpack's layers folder. */
  layersDir: string;
  /** Entries of the Buildpack Plan (`CNB_BP_PLAN_PATH`). */
  plan: PlanEntry[];
}

function required(env: Env, name: string): string {
  const v = env[name];
  if (!v) {
    throw new BuildpackError(`${name} is not set: this program is a Cloud Native Buildpack and must be run by a CNB lifecycle`, {
      hint: 'run it through `cairn build` (or another CNB platform), not directly',
    });
  }
  return v;
}

async function readPlatformEnv(platformDir: string): Promise<Record<string, string>> {
  const dir = join(platformDir, 'env');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const n of names.sort()) {
    try {
      out[n] = await readFile(join(dir, n), 'utf8');
    } catch {
      // a folder or an unreadable entry is no variable
    }
  }
  return out;
}

async function readBuildpackInfo(dir: string): Promise<BuildpackInfo> {
  const file = join(dir, 'buildpack.toml');
  try {
    const t = parseToml(await readFile(file, 'utf8')) as { buildpack?: { id?: unknown; version?: unknown; name?: unknown } };
    const id = String(t.buildpack?.id ?? '');
    const version = String(t.buildpack?.version ?? '');
    return { id, version, name: typeof t.buildpack?.name === 'string' ? t.buildpack.name : id };
  } catch (e) {
    throw new BuildpackError(`cannot read ${file}: ${messageOf(e)}`, { cause: e, hint: 'the buildpack is incomplete; reinstall it' });
  }
}

export async function readContext(env: Env, cwd: string, log: Logger, now: () => number = () => 0): Promise<Context> {
  const buildpackDir = required(env, 'CNB_BUILDPACK_DIR');
  const platformDir = env.CNB_PLATFORM_DIR || '/platform';
  const platformEnv = await readPlatformEnv(platformDir);
  const target: Target = { os: env.CNB_TARGET_OS || 'linux', arch: env.CNB_TARGET_ARCH || 'amd64' };
  if (env.CNB_TARGET_ARCH_VARIANT) target.variant = env.CNB_TARGET_ARCH_VARIANT;
  if (env.CNB_TARGET_DISTRO_NAME) target.distroName = env.CNB_TARGET_DISTRO_NAME;
  if (env.CNB_TARGET_DISTRO_VERSION) target.distroVersion = env.CNB_TARGET_DISTRO_VERSION;
  return {
    appDir: cwd,
    buildpackDir,
    platformDir,
    buildpack: await readBuildpackInfo(buildpackDir),
    target,
    execEnv: env.CNB_EXEC_ENV || 'production',
    env,
    platformEnv,
    log,
    now,
    config: (name) => env[name] || platformEnv[name] || undefined,
  };
}

export async function readDetectContext(env: Env, cwd: string, log: Logger, now?: () => number): Promise<DetectContext> {
  return { ...(await readContext(env, cwd, log, now)), buildPlanPath: required(env, 'CNB_BUILD_PLAN_PATH') };
}

export async function readPlan(path: string): Promise<PlanEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BuildpackError(`cannot read the Buildpack Plan ${path}: ${messageOf(e)}`, { cause: e });
  }
  const t = parseToml(text) as { entries?: { name?: unknown; metadata?: unknown }[] };
  return (t.entries ?? []).map((e) => ({
    name: String(e.name ?? ''),
    metadata: e.metadata && typeof e.metadata === 'object' ? (plain(e.metadata) as Record<string, unknown>) : {},
  }));
}

/** TOML tables as ordinary objects (the parser makes them without a prototype). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export async function readBuildContextBase(env: Env, cwd: string, log: Logger, now?: () => number): Promise<BuildContextBase> {
  const ctx = await readContext(env, cwd, log, now);
  return { ...ctx, layersDir: required(env, 'CNB_LAYERS_DIR'), plan: await readPlan(required(env, 'CNB_BP_PLAN_PATH')) };
}
