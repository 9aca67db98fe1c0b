/**
 * The `CNB_*` variables the lifecycle gives `bin/detect` and `bin/build` (digest §2.2, §2.3, reference
 * `buildpack/detect.go`, `buildpack/build.go`), and the deprecated positional arguments it still passes.
 * Set last, they override any user or operator variable of the same name.
 */
import { atLeast, type ApiVersion } from '../api.js';
import type { TargetData } from '../target.js';
import type { Env } from './env.js';

/** `CNB_TARGET_OS`, `CNB_TARGET_ARCH`, and the optional variant/distro ones when non-empty (API ≥ 0.10). */
export function targetVars(t: TargetData): [string, string][] {
  const out: [string, string][] = [
    ['CNB_TARGET_OS', t.os],
    ['CNB_TARGET_ARCH', t.arch],
  ];
  if (t.variant) out.push(['CNB_TARGET_ARCH_VARIANT', t.variant]);
  if (t.distro?.name) out.push(['CNB_TARGET_DISTRO_NAME', t.distro.name]);
  if (t.distro?.version) out.push(['CNB_TARGET_DISTRO_VERSION', t.distro.version]);
  return out;
}

interface CommonInputs {
  /** Buildpack API of the buildpack being run. */
  api: ApiVersion;
  /** Absolute root of the buildpack (or extension). */
  moduleDir: string;
  /** An image extension: `CNB_EXTENSION_DIR` instead of `CNB_BUILDPACK_DIR`. */
  extension?: boolean;
  platformDir: string;
  /** Run image target (complete it from /etc/os-release first when its distro is missing). */
  target: TargetData;
  /** `CNB_EXEC_ENV`; passed to Buildpack API ≥ 0.12 when non-empty. */
  execEnv?: string;
}

export interface DetectInputs extends CommonInputs {
  /** Pre-created empty file for the Build Plan. */
  buildPlanPath: string;
}

export interface BuildInputs extends CommonInputs {
  /** `<layers>/<escaped-id>`, this buildpack's layers directory. */
  layersDir: string;
  /** The Buildpack Plan file. */
  bpPlanPath: string;
}

function common(i: CommonInputs, middle: [string, string][]): [string, string][] {
  const out: [string, string][] = [[i.extension ? 'CNB_EXTENSION_DIR' : 'CNB_BUILDPACK_DIR', i.moduleDir], ['CNB_PLATFORM_DIR', i.platformDir], ...middle];
  out.push(...targetVars(i.target));
  if (atLeast(i.api, '0.12') && i.execEnv) out.push(['CNB_EXEC_ENV', i.execEnv]);
  return out;
}

export function detectInputVars(i: DetectInputs): [string, string][] {
  return common(i, [['CNB_BUILD_PLAN_PATH', i.buildPlanPath]]);
}

export function buildInputVars(i: BuildInputs): [string, string][] {
  return common(i, [
    ['CNB_BP_PLAN_PATH', i.bpPlanPath],
    ['CNB_LAYERS_DIR', i.layersDir],
  ]);
}

/** Sets the pairs on `env`, later pairs winning. */
export function withVars(env: Env, vars: readonly (readonly [string, string])[]): Env {
  return vars.reduce((e, [k, v]) => e.set(k, v), env);
}

/** argv of `bin/detect`: its absolute path, then the deprecated `<platform> <plan>`. */
export function detectArgv(i: DetectInputs): string[] {
  return [`${i.moduleDir}/bin/detect`, i.platformDir, i.buildPlanPath];
}

/** argv of `bin/build`: its absolute path, then the deprecated `<layers> <platform> <plan>`. */
export function buildArgv(i: BuildInputs): string[] {
  return [`${i.moduleDir}/bin/build`, i.layersDir, i.platformDir, i.bpPlanPath];
}
