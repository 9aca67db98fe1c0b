/**
 * The environment of `bin/detect` and `bin/build` (digest §2.8 "Environment given to detect/build", reference
 * `env/build.go`, `Env.WithOverrides`), in the order it is assembled:
 *
 * 1. the lifecycle's own environment filtered to an include-list (+ the layer path variables);
 * 2. accumulated buildpack layer modifications (`addLayerPaths`, `applyEnvFiles`; see `fs-env.ts`);
 * 3. user variables from `<platform>/env/<NAME>` — layer path variables prepended with `:`, others
 *    overridden — unless the buildpack has `clear-env = true`;
 * 4. operator variables from `<build-config>/env/`, suffix rules with no suffix = default, always applied;
 * 5. the `CNB_*` inputs (`cnb-inputs.ts`), which win over everything above.
 */
import { applyEnvFiles, isValidEnvName, type EnvFile } from './env-files.js';
import type { Env } from './env.js';
import { BUILD_LAYER_PATHS, layerPathVariables } from './layer-paths.js';

/** Variables of the lifecycle's environment passed through to buildpacks (reference `BuildEnvIncludelist`). */
export const BUILD_ENV_INCLUDE_LIST: readonly string[] = [
  'CNB_STACK_ID', // deprecated since Platform API 0.12
  'HOSTNAME',
  'HOME',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
];

const BUILD_PATH_VARS: ReadonlySet<string> = new Set(layerPathVariables(BUILD_LAYER_PATHS));
const KEEP: ReadonlySet<string> = new Set([...BUILD_ENV_INCLUDE_LIST, ...BUILD_PATH_VARS]);

/** Step 1: the lifecycle's environment reduced to the include-list and the layer path variables. */
export function initialBuildEnv(lifecycleEnv: Env): Env {
  return lifecycleEnv.filter((name) => KEEP.has(name));
}

/** Step 3: user variables; each file name is the variable name, its contents the value. */
export function applyUserEnv(env: Env, files: readonly EnvFile[]): Env {
  let out = env;
  for (const f of files) {
    if (!isValidEnvName(f.name)) continue;
    const current = out.get(f.name);
    if (BUILD_PATH_VARS.has(f.name) && current !== '') out = out.set(f.name, `${f.contents}:${current}`);
    else out = out.set(f.name, f.contents);
  }
  return out;
}

/** Step 4: operator variables (`<build-config>/env/`), no suffix = default. */
export function applyOperatorEnv(env: Env, files: readonly EnvFile[]): Env {
  return applyEnvFiles(env, files, 'default');
}

export interface PlatformEnv {
  /** `<platform>/env/` files. */
  user: readonly EnvFile[];
  /** `<build-config>/env/` files. */
  operator: readonly EnvFile[];
}

/** Steps 3–4 for one buildpack: user variables unless `clearEnv`, then operator variables. */
export function withPlatformEnv(env: Env, platform: PlatformEnv, clearEnv: boolean): Env {
  return applyOperatorEnv(clearEnv ? env : applyUserEnv(env, platform.user), platform.operator);
}
