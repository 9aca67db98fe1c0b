/**
 * Execution-environment eligibility (Buildpack API 0.12 / Platform API 0.15; digest §3.2, §6): a buildpack,
 * process or layer with an `exec-env` list applies when the list is empty, contains `*`, or contains the
 * current environment (`CNB_EXEC_ENV`, default `production`).
 */
export const DEFAULT_EXEC_ENV = 'production';

export function execEnvAllows(list: readonly string[], execEnv: string): boolean {
  return list.length === 0 || list.includes('*') || list.includes(execEnv);
}
