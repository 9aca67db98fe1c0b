/**
 * The detector phase (digest §3, §2.2, platform spec "detector"): runs each candidate buildpack's
 * `bin/detect` in the sandbox, resolves the first passing group and writes `<layers>/group.toml` and
 * `<layers>/plan.toml`.
 *
 * Each `bin/detect` runs with argv `[<bp>/bin/detect, <platform>, <plan>]`, cwd `<app>`, and the §2.8
 * environment (include-list of the lifecycle's env, user env unless `clear-env`, operator env, `CNB_*`
 * inputs). Its mounts: the app, the platform folder and the buildpacks folder read-only, and a fresh scratch
 * folder at `/tmp` holding the pre-created empty `CNB_BUILD_PLAN_PATH` — the only writable place.
 *
 * Image extensions are not supported yet: a non-empty `orderExtensions` is refused (exit 22).
 */
import { writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { atLeast, parseApiVersion } from '../api.js';
import { detect, detectFailureError, type DetectRun, type DetectRunOutput, type GroupAttempt } from '../detect/detector.js';
import { moduleInfoOf, type ModuleInfo } from '../detect/module.js';
import { withSystemBuildpacks } from '../detect/system.js';
import { initialBuildEnv, withPlatformEnv, type PlatformEnv } from '../env/build-env.js';
import { detectArgv, detectInputVars, withVars, type DetectInputs } from '../env/cnb-inputs.js';
import { Env } from '../env/env.js';
import { readPlatformEnv } from '../env/fs-env.js';
import { ExitCode, LifecycleError } from '../exit-codes.js';
import { parseBuildPlan, type BuildPlan } from '../files/build-plan.js';
import { lookupBuildpack } from '../files/buildpack-dir.js';
import { serializeGroupToml, type GroupToml } from '../files/group-toml.js';
import type { OrderGroup } from '../files/module-ref.js';
import { serializePlanToml, type PlanToml } from '../files/plan-toml.js';
import type { SystemToml } from '../files/system-toml.js';
import { effectiveExecEnv, effectiveTarget, howItEnded, makeScratch, sandboxOwner, type SandboxPhaseInput } from './build-context.js';
import { readUntrustedToml } from './build-files.js';
import { mountOf, toSandbox } from './dirs.js';

export interface DetectorInput extends SandboxPhaseInput {
  order: readonly OrderGroup[];
  orderExtensions?: readonly OrderGroup[];
  /** system.toml (Platform ≥ 0.15): buildpacks put before/after every group. */
  system?: SystemToml;
  /** Parallel `bin/detect` runs; default 4. */
  concurrency?: number;
  /** Where to write the results; default `<layers>/group.toml`, `<layers>/plan.toml` (host paths). */
  groupPath?: string;
  planPath?: string;
}

export interface DetectOutcome {
  group: GroupToml;
  plan: PlanToml;
  /** Every candidate group tried, in order. */
  attempts: GroupAttempt[];
  /** Every `bin/detect` run, with its exit code and output. */
  runs: DetectRun[];
}

/** Runs detection and writes group.toml and plan.toml. Throws a LifecycleError (exit 20/21) when no group passes. */
export async function runDetector(input: DetectorInput): Promise<DetectOutcome> {
  const { dirs, log } = input;
  if ((input.orderExtensions ?? []).some((g) => g.group.length > 0)) {
    throw new LifecycleError('UNSUPPORTED', 'image extensions are not supported', {
      phase: 'detect',
      exitCode: ExitCode.detectError,
      hint: 'remove [[order-extensions]] from order.toml',
    });
  }
  const order = input.system && atLeast(input.platformApi, '0.15') ? withSystemBuildpacks(input.order, input.system) : [...input.order];
  const target = effectiveTarget(input);
  const execEnv = effectiveExecEnv(input);
  const baseEnv = initialBuildEnv(Env.from(input.processEnv));
  const platformEnv = await readPlatformEnv(dirs.host.platform, dirs.host.buildConfig);

  // ModuleInfo.dir is the sandbox path (CNB_BUILDPACK_DIR); buildpack.toml is read on the host side.
  // Only buildpacks are looked up (extensions are refused above).
  const lookup = async (_kind: unknown, id: string, version: string): Promise<ModuleInfo> => {
    const bp = await lookupBuildpack(dirs.host.buildpacks, id, version);
    return { ...moduleInfoOf(bp), dir: toSandbox(dirs, bp.dir) };
  };

  const run = (m: ModuleInfo, signal: AbortSignal) => runDetect({ ...input, signal: input.signal ? AbortSignal.any([input.signal, signal]) : signal }, m, { baseEnv, platformEnv, target, execEnv });

  const result = await detect({ order, lookup, run, target, execEnv, concurrency: input.concurrency });
  // Logged afterwards, so that runs made ahead for groups never tried (see detect) do not appear.
  for (const r of result.runs) log('debug', `detect ${r.id}@${r.version}: exit ${r.code}\n${r.error ? `${r.error}\n` : ''}${r.output}`);
  for (const a of result.attempts) log('debug', `group ${describeAttempt(a)}`);
  if (!result.ok) throw detectFailureError(result);

  await writeFile(input.groupPath ?? join(dirs.host.layers, 'group.toml'), serializeGroupToml(result.group));
  await writeFile(input.planPath ?? join(dirs.host.layers, 'plan.toml'), serializePlanToml(result.plan));
  log('info', `detected ${result.group.group.map((g) => `${g.id}@${g.version}`).join(', ')}`);
  return { group: result.group, plan: result.plan, attempts: result.attempts, runs: result.runs };
}

interface Prepared {
  baseEnv: Env;
  platformEnv: PlatformEnv;
  target: DetectInputs['target'];
  execEnv: string | undefined;
}

async function runDetect(input: DetectorInput, m: ModuleInfo, p: Prepared): Promise<DetectRunOutput> {
  const { dirs, executor } = input;
  const scratch = await makeScratch(input, 'detect');
  try {
    const planHost = join(scratch.host, 'plan.toml');
    await writeFile(planHost, '');
    await sandboxOwner(executor, planHost, input.uid, input.gid);
    const inputs: DetectInputs = {
      api: parseApiVersion(m.api),
      moduleDir: m.dir,
      platformDir: dirs.sandbox.platform,
      target: p.target,
      execEnv: p.execEnv,
      buildPlanPath: posix.join(scratch.sandbox, 'plan.toml'),
    };
    const env = withVars(withPlatformEnv(p.baseEnv, p.platformEnv, m.clearEnv), detectInputVars(inputs));
    const r = await executor.run({
      argv: detectArgv(inputs),
      env: env.toRecord(),
      cwd: dirs.sandbox.app,
      mounts: [
        mountOf(dirs, dirs.host.app, false),
        mountOf(dirs, dirs.host.platform, false),
        mountOf(dirs, dirs.host.buildpacks, false),
        scratch.mount,
      ],
      uid: input.uid,
      gid: input.gid,
      network: input.network ?? true,
      timeoutMs: input.timeoutMs,
      signal: input.signal,
    });
    if (r.signal || r.timedOut) return { code: r.code, output: `${r.output}\n(bin/detect ${howItEnded(r, input.timeoutMs)})` };
    if (r.code !== 0) return { code: r.code, output: r.output };
    const plan: BuildPlan | undefined = await readUntrustedToml(planHost, (text) =>
      parseBuildPlan(text, `build plan of ${m.id}@${m.version}`, { extension: m.kind === 'extension' }),
    );
    return { code: 0, output: r.output, plan };
  } finally {
    await scratch.dispose();
  }
}

function describeAttempt(a: GroupAttempt): string {
  const els = a.elements.map((e) => `${e.id}@${e.version}${e.optional ? '?' : ''}:${e.status}`).join(' ');
  return `[${els}] ${a.result}${a.reason ? ` (${a.reason})` : ''}`;
}

/**
 * The exit 20/21 error: names every buildpack run with its status and exit code, and repeats each one's
 * output (or why it could not run), so the user sees why it failed.
 */
