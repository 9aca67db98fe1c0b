/**
 * The launch environment rules (digest §6 "Execution sequence", §2.7, reference `env/launch.go`,
 * `launch/launcher.go doEnv`): the container environment minus lifecycle variables, with `/cnb/process` and
 * `/cnb/lifecycle` removed from PATH; then, per buildpack in group order, every layer's `bin`/`lib` first and
 * then every layer's `env/`, `env.launch/`, `env.launch/<process-type>/`, all with no suffix = override.
 */
import type { Env } from './env.js';

/** Removed from the container environment before launch. */
export const LAUNCH_ENV_EXCLUDE_LIST: readonly string[] = ['CNB_LAYERS_DIR', 'CNB_APP_DIR', 'CNB_PROCESS_TYPE', 'CNB_PLATFORM_API', 'CNB_DEPRECATION_MODE'];

export const PROCESS_DIR = '/cnb/process';
export const LIFECYCLE_DIR = '/cnb/lifecycle';

export function initialLaunchEnv(containerEnv: Env): Env {
  const env = containerEnv.filter((name) => !LAUNCH_ENV_EXCLUDE_LIST.includes(name));
  if (!env.has('PATH')) return env;
  const path = env
    .get('PATH')
    .split(':')
    .filter((p) => p !== PROCESS_DIR && p !== LIFECYCLE_DIR)
    .join(':');
  return env.set('PATH', path);
}

/** The env directories of a launch layer, in the order they apply (relative to the layer directory). */
export function launchEnvDirs(processType: string | undefined): string[] {
  return processType ? ['env', 'env.launch', `env.launch/${processType}`] : ['env', 'env.launch'];
}

/** The env directories of a build layer, in the order they apply. */
export const BUILD_ENV_DIRS: readonly string[] = ['env', 'env.build'];
