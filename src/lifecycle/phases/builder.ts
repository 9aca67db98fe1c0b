/**
 * The builder phase (digest §2.3–§2.9, §4.2, platform spec "builder"): runs each group buildpack's
 * `bin/build` in the sandbox, in order, then writes `<layers>/config/metadata.toml`.
 *
 * Per buildpack:
 * 1. its Buildpack API must be supported (exit 12);
 * 2. `<layers>/<escaped-id>` is created; the Buildpack Plan (its plan.toml entries, minus those met by
 *    earlier buildpacks) is written to a scratch folder mounted at `/tmp`;
 * 3. `bin/build` runs with argv `[<bp>/bin/build, <layers>/<bp>, <platform>, <plan>]`, cwd `<app>`, and the
 *    §2.8 environment: the `build = true` layers of earlier buildpacks, user env unless `clear-env`,
 *    operator env, `CNB_*` inputs. Writable: `<app>`, its own `<layers>/<bp>` (bound over a read-only
 *    `<layers>`) and the scratch folder. Read-only: platform and buildpacks folders. Non-zero exit: exit 51;
 * 4. its outputs are validated (launch.toml, build.toml with unmet names from its plan, store.toml, every
 *    `<layer>.toml`, SBOM files against `sbom-formats`); invalid output is also a buildpack failure (51);
 * 5. layers with all types false become `<layer>.ignore`; unmet plan entries pass to the next provider;
 *    its `build = true` layers join the environment of the buildpacks after it; `onBuilt` is told.
 * Then `<layers>/sbom` is filled (it is emptied first), processes are merged, labels and slices collected.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { checkBuildpackApi } from '../api.js';
import { initialBuildEnv, withPlatformEnv } from '../env/build-env.js';
import { buildArgv, buildInputVars, withVars, type BuildInputs } from '../env/cnb-inputs.js';
import { Env } from '../env/env.js';
import { readPlatformEnv } from '../env/fs-env.js';
import { ExitCode, LifecycleError, type ModuleIdentity } from '../exit-codes.js';
import { serializeBuildMetadataToml, type BuildMetadataProcess } from '../files/build-metadata-toml.js';
import { checkUnmet, metNames } from '../files/build-toml.js';
import { lookupBuildpack } from '../files/buildpack-dir.js';
import { serializeBuildpackPlan } from '../files/buildpack-plan.js';
import type { GroupToml } from '../files/group-toml.js';
import type { Label, Slice } from '../files/launch-toml.js';
import { isIgnoredLayer, type LayerTypes } from '../files/layer-toml.js';
import { buildpackPlanFor, withoutMet, type PlanToml } from '../files/plan-toml.js';
import { escapeId } from '../ids.js';
import { mergeProcesses, type BuildpackProcesses } from '../processes.js';
import { copySbomFiles, planSbomCopies, resetSbomDir, type SbomCopy } from '../sbom.js';
import { effectiveExecEnv, effectiveTarget, howItEnded, makeScratch, sandboxOwner, type SandboxPhaseInput } from './build-context.js';
import { readBuildpackOutputs, type BuildpackOutputs } from './build-files.js';
import { applySandboxedBuildLayer } from './build-layer-env.js';
import { buildMetadataPath, builtBuildpack, type BuildOutcome, type BuiltBuildpack } from './build-result.js';
import { mountOf, toSandbox } from './dirs.js';

export interface BuilderInput extends SandboxPhaseInput {
  group: GroupToml;
  plan: PlanToml;
  /** Streams each buildpack's output as it runs (the log gets it at debug level once the buildpack ends). */
  onOutput?: (buildpack: ModuleIdentity, chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /**
   * Called once per buildpack, in group order, when its outputs are read and checked and the builder is done
   * with its folder (ignored layers renamed): the creator's export ahead starts there. Must not throw.
   */
  onBuilt?: (bp: BuiltBuildpack) => void;
}

export type { BuildOutcome, BuiltBuildpack, BuiltLayer } from './build-result.js';
export { readBuildResult } from './build-result.js';

function buildpackFailure(bp: ModuleIdentity, message: string, opts: { output?: string; cause?: unknown; hint: string }): LifecycleError {
  return new LifecycleError('BUILDPACK_FAILED', message, { phase: 'build', exitCode: ExitCode.buildpackFailed, buildpack: bp, ...opts });
}

/** Labels in buildpack order; for a key set twice the later value wins, at the key's first position. */
function mergeLabels(labels: readonly Label[]): Label[] {
  const m = new Map<string, string>();
  for (const l of labels) m.set(l.key, l.value);
  return [...m].map(([key, value]) => ({ key, value }));
}

export async function runBuilder(input: BuilderInput): Promise<BuildOutcome> {
  const { dirs, executor, log } = input;
  const target = effectiveTarget(input);
  const execEnv = effectiveExecEnv(input);
  const platformEnv = await readPlatformEnv(dirs.host.platform, dirs.host.buildConfig);
  await resetSbomDir(dirs.host.layers);

  let env = initialBuildEnv(Env.from(input.processEnv));
  let plan = input.plan;
  const built: BuiltBuildpack[] = [];
  const processes: BuildpackProcesses[] = [];
  const labels: Label[] = [];
  const slices: Slice[] = [];
  const sbomCopies: SbomCopy[] = [];

  for (const entry of input.group.group) {
    const who: ModuleIdentity = { id: entry.id, version: entry.version };
    const bp = await lookupBuildpack(dirs.host.buildpacks, entry.id, entry.version);
    const api = checkBuildpackApi(bp.descriptor.api, who, 'build');
    const bpLayersHost = join(dirs.host.layers, escapeId(entry.id));
    await mkdir(bpLayersHost, { recursive: true });
    await sandboxOwner(executor, bpLayersHost, input.uid, input.gid);
    const bpPlan = buildpackPlanFor(plan, entry.id);

    const scratch = await makeScratch(input, 'build');
    let out: BuildpackOutputs;
    try {
      await writeFile(join(scratch.host, 'plan.toml'), serializeBuildpackPlan(bpPlan));
      const inputs: BuildInputs = {
        api,
        moduleDir: toSandbox(dirs, bp.dir),
        platformDir: dirs.sandbox.platform,
        target,
        execEnv,
        layersDir: toSandbox(dirs, bpLayersHost),
        bpPlanPath: posix.join(scratch.sandbox, 'plan.toml'),
      };
      const runEnv = withVars(withPlatformEnv(env, platformEnv, bp.descriptor.buildpack.clearEnv), buildInputVars(inputs));
      log('info', `building ${entry.id}@${entry.version}`);
      const r = await executor.run({
        argv: buildArgv(inputs),
        env: runEnv.toRecord(),
        cwd: dirs.sandbox.app,
        mounts: [
          mountOf(dirs, dirs.host.layers, false),
          mountOf(dirs, bpLayersHost, true),
          mountOf(dirs, dirs.host.app, true),
          mountOf(dirs, dirs.host.platform, false),
          mountOf(dirs, dirs.host.buildpacks, false),
          scratch.mount,
        ],
        uid: input.uid,
        gid: input.gid,
        network: input.network ?? true,
        timeoutMs: input.timeoutMs,
        signal: input.signal,
        onOutput: input.onOutput && ((chunk, stream) => input.onOutput!(who, chunk, stream)),
      });
      log('debug', `build ${entry.id}@${entry.version}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n${r.output}`);
      if (r.signal || r.timedOut || r.code !== 0) {
        throw buildpackFailure(who, `bin/build ${howItEnded(r, input.timeoutMs)}`, {
          output: r.output,
          hint: 'the buildpack failed; its output is above',
        });
      }
      try {
        out = await readBuildpackOutputs(bpLayersHost);
        if (out.build) checkUnmet(out.build, bpPlan, join(bpLayersHost, 'build.toml'));
        const types = new Map<string, LayerTypes>(out.layers.filter((l) => !isIgnoredLayer(l.toml.types)).map((l) => [l.name, l.toml.types]));
        sbomCopies.push(...planSbomCopies(entry.id, bp.descriptor.buildpack.sbomFormats, out.files, types));
      } catch (e) {
        throw buildpackFailure(who, `invalid output: ${(e as Error).message}`, { output: r.output, cause: e, hint: 'fix the files the buildpack writes to its layers directory' });
      }
    } finally {
      await scratch.dispose();
    }

    for (const l of out.layers) {
      if (!isIgnoredLayer(l.toml.types) || !l.hasDir) continue;
      const ignored = join(bpLayersHost, `${l.name}.ignore`);
      await rm(ignored, { recursive: true, force: true });
      await rename(join(bpLayersHost, l.name), ignored);
    }
    if ((out.launch?.bom.length ?? 0) + (out.build?.bom.length ?? 0) > 0) {
      log('warn', `${entry.id}@${entry.version}: legacy [[bom]] entries are ignored (Buildpack API ≥ 0.7 writes SBOM files)`);
    }
    plan = withoutMet(plan, out.build ? metNames(out.build, bpPlan) : bpPlan.entries.map((e) => e.name));
    for (const l of out.layers) {
      if (!l.toml.types.build || !l.hasDir) continue;
      const hostDir = join(bpLayersHost, l.name);
      env = await applySandboxedBuildLayer(env, hostDir, toSandbox(dirs, hostDir));
    }
    processes.push({ buildpackId: entry.id, processes: out.launch?.processes ?? [] });
    labels.push(...(out.launch?.labels ?? []));
    slices.push(...(out.launch?.slices ?? []));
    const done = builtBuildpack(entry, out);
    built.push(done);
    input.onBuilt?.(done);
  }

  await copySbomFiles(dirs.host.layers, sbomCopies);
  const merged = mergeProcesses(processes);
  for (const w of merged.warnings) log('warn', w);
  const outcome: BuildOutcome = {
    // metadata.toml spells "every execution environment" as ["*"] (spec), so the outcome does too.
    processes: merged.processes.map((p): BuildMetadataProcess => ({ ...p, execEnv: p.execEnv.length > 0 ? p.execEnv : ['*'] })),
    ...(merged.defaultType ? { defaultProcess: merged.defaultType } : {}),
    labels: mergeLabels(labels),
    slices,
    buildpacks: built,
    extensions: input.group.groupExtensions,
  };
  await mkdir(join(dirs.host.layers, 'config'), { recursive: true });
  await writeFile(
    buildMetadataPath(dirs.host.layers),
    serializeBuildMetadataToml({
      buildpackDefaultProcessType: outcome.defaultProcess,
      buildpacks: input.group.group,
      extensions: outcome.extensions,
      labels: outcome.labels,
      processes: outcome.processes,
      slices: outcome.slices,
    }),
  );
  return outcome;
}
