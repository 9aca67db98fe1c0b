/**
 * Detection (digest §3, buildpack spec "Phase #1: Detection", reference `phase/detector.go`): tries the
 * candidate groups of an order in turn and returns the first that resolves, as group.toml + plan.toml data.
 *
 * Per candidate group:
 * 1. each element's targets are checked against the run image (Platform ≥ 0.12): a required element that
 *    matches none errors; an optional one is skipped without running (the reference runs it anyway);
 * 2. `bin/detect` runs for the rest through the injected runner, at most `concurrency` at once, each
 *    module once per detection (cached by kind + id@version across groups). While a group runs, the modules
 *    of the next `LOOKAHEAD` groups are queued behind it (speculation: a run has no side effect outside its
 *    own scratch folder). Results are used strictly in group order, and only runs of groups actually tried
 *    are reported, so the outcome, `attempts` and `runs` are those of sequential detection; once a group
 *    passes (or all fail) queued runs are dropped and running ones aborted (their signal), and awaited;
 * 3. exit 0 = pass, 100 = fail, anything else (or a runner exception) = error. The group fails if a required
 *    element did not pass, or if no buildpack (extensions do not count) passed;
 * 4. the plan is resolved from the passing elements (`resolvePlan`).
 * When every group fails the result says whether any failed group had an erroring element: exit 21, else 20.
 */
import { ExitCode, LifecycleError } from '../exit-codes.js';
import type { BuildPlan } from '../files/build-plan.js';
import type { GroupEntry, GroupToml } from '../files/group-toml.js';
import type { OrderGroup } from '../files/module-ref.js';
import type { PlanToml } from '../files/plan-toml.js';
import type { TargetData } from '../target.js';
import { expandOrder, type GroupElement } from './expand.js';
import type { ModuleInfo, ModuleKind, ModuleLookup } from './module.js';
import { resolvePlan } from './resolve-plan.js';
import { anyTargetSatisfied } from './target-match.js';

/** What running one `bin/detect` produced. `plan` is the parsed Build Plan (absent: empty). */
export interface DetectRunOutput {
  code: number;
  output: string;
  plan?: BuildPlan;
}

/**
 * Runs `bin/detect` of a module (or reads an extension's pre-made plan). May throw: counted as an error.
 * `signal` aborts a run whose result is no longer needed (its outcome is then ignored).
 */
export type DetectRunner = (module: ModuleInfo, signal: AbortSignal) => Promise<DetectRunOutput>;

export type RunStatus = 'pass' | 'fail' | 'error';

/** One module's detection, as run (or refused for its targets). */
export interface DetectRun {
  kind: ModuleKind;
  id: string;
  version: string;
  status: RunStatus;
  /** Exit code; -1 when the runner threw or the targets did not match. */
  code: number;
  output: string;
  /** Why it errored without an exit code of its own. */
  error?: string;
  plan: BuildPlan;
}

export type ElementStatus = RunStatus | 'skip';

/** One candidate group tried, for logs and failure reports. */
export interface GroupAttempt {
  elements: { kind: ModuleKind; id: string; version: string; optional: boolean; status: ElementStatus }[];
  result: 'pass' | 'fail' | 'error';
  reason?: string;
}

export type DetectResult =
  | { ok: true; group: GroupToml; plan: PlanToml; attempts: GroupAttempt[]; runs: DetectRun[] }
  | { ok: false; exitCode: 20 | 21; attempts: GroupAttempt[]; runs: DetectRun[] };

export interface DetectOptions {
  order: readonly OrderGroup[];
  orderExtensions?: readonly OrderGroup[];
  lookup: ModuleLookup;
  run: DetectRunner;
  /** Run image target, completed (`completeTarget`). */
  target: TargetData;
  /** `CNB_EXEC_ENV` when the Platform API is ≥ 0.15; entries not eligible are skipped. */
  execEnv?: string;
  /** Parallel `bin/detect` runs; default 4. */
  concurrency?: number;
}

const EMPTY_PLAN: BuildPlan = { provides: [], requires: [], or: [] };

/** Candidate groups after the current one whose modules are queued speculatively. */
export const LOOKAHEAD = 3;

const keyOf = (m: { kind: ModuleKind; id: string; version: string }) => `${m.kind} ${m.id}@${m.version}`;

function statusOf(code: number): RunStatus {
  if (code === 0) return 'pass';
  if (code === 100) return 'fail';
  return 'error';
}

function groupEntryOf(m: ModuleInfo): GroupEntry {
  return { id: m.id, version: m.version, api: m.api, homepage: m.homepage || undefined };
}

export async function detect(opts: DetectOptions): Promise<DetectResult> {
  const limit = Math.max(1, opts.concurrency ?? 4);
  const stop = new AbortController();
  /** Every run started or queued, speculative ones included. */
  const started = new Map<string, Promise<DetectRun>>();
  /** The runs of the groups tried, in the order they were first needed: what is reported. */
  const used = new Map<string, Promise<DetectRun>>();
  const attempts: GroupAttempt[] = [];
  let anyError = false;

  // A FIFO of waiting runs: modules are queued group by group, so the group being tried goes first. A freed
  // slot passes straight to the next waiting run.
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  const inSlot = async (m: ModuleInfo): Promise<DetectRunOutput | undefined> => {
    if (active < limit) active++;
    else {
      await new Promise<void>((r) => waiting.push(r));
      // Let the result that freed the slot be judged first: it may end detection, and this run with it.
      await new Promise<void>((r) => setImmediate(r));
    }
    try {
      return stop.signal.aborted ? undefined : await opts.run(m, stop.signal); // undefined: no longer needed, never started
    } finally {
      release();
    }
  };

  const runOnce = (m: ModuleInfo): Promise<DetectRun> => {
    const key = keyOf(m);
    let p = started.get(key);
    if (!p) {
      p = inSlot(m).then(
        (r): DetectRun => {
          if (!r) return { kind: m.kind, id: m.id, version: m.version, status: 'error', code: -1, output: '', error: 'not run', plan: EMPTY_PLAN };
          const plan = r.plan ?? EMPTY_PLAN;
          const run: DetectRun = { kind: m.kind, id: m.id, version: m.version, status: statusOf(r.code), code: r.code, output: r.output, plan };
          if (m.kind === 'extension' && r.code === 0 && [plan, ...plan.or].some((s) => s.requires.length > 0)) {
            return { ...run, status: 'error', code: -1, error: `extension ${m.id} outputs "requires", which is not allowed` };
          }
          return run;
        },
        (e: unknown): DetectRun => ({ kind: m.kind, id: m.id, version: m.version, status: 'error', code: -1, output: '', error: (e as Error).message ?? String(e), plan: EMPTY_PLAN }),
      );
      started.set(key, p);
    }
    return p;
  };
  const use = (m: ModuleInfo, run: () => Promise<DetectRun>): Promise<DetectRun> => {
    const key = keyOf(m);
    let p = used.get(key);
    if (!p) used.set(key, (p = run()));
    return p;
  };
  const targetOk = (el: GroupElement) => anyTargetSatisfied(opts.target, el.module.targets);

  // Groups are expanded ahead of the one tried; an expansion error surfaces only when its turn comes.
  const groups = expandOrder(opts.order, opts.orderExtensions ?? [], opts.lookup, { execEnv: opts.execEnv })[Symbol.asyncIterator]();
  const ahead: Promise<IteratorResult<GroupElement[]>>[] = [];
  const pull = (): void => {
    const p = groups.next();
    p.then((g) => {
      if (!g.done && !stop.signal.aborted) for (const el of g.value) if (targetOk(el)) runOnce(el.module);
    }, () => undefined);
    ahead.push(p);
  };

  const finish = async (): Promise<DetectRun[]> => {
    stop.abort();
    await Promise.all(started.values());
    return Promise.all(used.values());
  };

  try {
    for (let k = 0; ; k++) {
      while (ahead.length <= k + LOOKAHEAD) pull();
      const next = await ahead[k]!;
      if (next.done) break;
      const group = next.value;
      const results = await Promise.all(
        group.map(async (el): Promise<DetectRun | undefined> => {
          if (targetOk(el)) return use(el.module, () => runOnce(el.module));
          if (el.optional) return undefined;
          const m = el.module;
          const error = `unable to satisfy target os/arch constraints; run image: ${JSON.stringify(opts.target)}, buildpack: ${JSON.stringify(m.targets)}`;
          // Never run (its targets never match): recorded for the report.
          return use(m, async () => ({ kind: m.kind, id: m.id, version: m.version, status: 'error', code: -1, output: '', error, plan: EMPTY_PLAN }));
        }),
      );
      const attempt: GroupAttempt = {
        elements: group.map((el, i) => ({ kind: el.module.kind, id: el.module.id, version: el.module.version, optional: el.optional, status: results[i]?.status ?? 'skip' })),
        result: 'fail',
      };
      attempts.push(attempt);

      const required = group.filter((el, i) => !el.optional && results[i]?.status !== 'pass');
      if (required.length > 0) {
        const errored = results.some((r) => r?.status === 'error');
        attempt.result = errored ? 'error' : 'fail';
        attempt.reason = `required ${required.map((el) => `${el.module.id}@${el.module.version}`).join(', ')} did not pass`;
        anyError ||= errored;
        continue;
      }
      const passed: (GroupElement & { plan: BuildPlan })[] = [];
      group.forEach((el, i) => {
        const r = results[i];
        if (r?.status === 'pass') passed.push({ ...el, plan: r.plan });
      });
      if (!passed.some((el) => el.module.kind === 'buildpack')) {
        attempt.reason = 'no buildpack passed';
        continue;
      }
      const resolved = resolvePlan(passed);
      if (!resolved) {
        attempt.reason = 'no combination of the build plans resolves (unmet requires or unused provides)';
        continue;
      }
      attempt.result = 'pass';
      const mods = resolved.selected.map((el) => el.module);
      return {
        ok: true,
        group: { group: mods.filter((m) => m.kind === 'buildpack').map(groupEntryOf), groupExtensions: mods.filter((m) => m.kind === 'extension').map(groupEntryOf) },
        plan: {
          entries: resolved.entries.map((e) => ({
            providers: e.providers.map((p) => ({ id: p.module.id, version: p.module.version, extension: p.module.kind === 'extension' })),
            requires: e.requires,
          })),
        },
        attempts,
        runs: await finish(),
      };
    }
    return { ok: false, exitCode: anyError ? ExitCode.detectErrored : ExitCode.detectFailed, attempts, runs: await finish() };
  } finally {
    // An expansion error ends detection: still leave no run behind.
    if (!stop.signal.aborted) await finish();
  }
}

/**
 * The error for a failed detection: exit 20 or 21, naming the buildpacks that failed and showing the output of
 * those that errored (their output, or why they could not run).
 */
export function detectFailureError(r: Extract<DetectResult, { ok: false }>): LifecycleError {
  const name = (x: DetectRun) => `${x.id}@${x.version}`;
  const verb = { pass: 'passed', fail: 'did not detect', error: 'errored' } as const;
  const summary = r.runs.map((x) => `${name(x)} ${verb[x.status]} (exit ${x.code})`);
  const output = r.runs
    .map((x) => `======== ${name(x)}: exit ${x.code} ========\n${x.error ? `${x.error}\n` : ''}${x.output}`)
    .join('\n');
  return new LifecycleError('DETECT_FAILED', `no buildpack group passed detection: ${summary.join('; ') || 'no buildpack ran'}`, {
    phase: 'detect',
    exitCode: r.exitCode,
    output: output || undefined,
    hint:
      r.exitCode === ExitCode.detectErrored
        ? 'a buildpack failed while detecting; its output is above'
        : 'no buildpack recognised the app: check the app directory, or choose buildpacks that support it',
  });
}
