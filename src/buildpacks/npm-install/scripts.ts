/**
 * Which package.json scripts run after the install: `BP_NODE_RUN_SCRIPTS` (comma-separated; each must
 * exist), else `build` when the package has one, else none.
 */
import { BuildpackError } from '../sdk/index.js';

export function scriptsToRun(scripts: Readonly<Record<string, unknown>> | undefined, setting: string | undefined, where = 'package.json'): string[] {
  const have = scripts ?? {};
  if (setting === undefined) return typeof have.build === 'string' ? ['build'] : [];
  const names = setting.split(',').map((s) => s.trim()).filter(Boolean);
  const missing = names.filter((n) => typeof have[n] !== 'string');
  if (missing.length) {
    throw new BuildpackError(`BP_NODE_RUN_SCRIPTS names ${missing.map((m) => `"${m}"`).join(', ')}, which ${where} does not define`, {
      output: `scripts in ${where}: ${Object.keys(have).join(', ') || '(none)'}`,
      hint: 'add the scripts to package.json, or change BP_NODE_RUN_SCRIPTS',
    });
  }
  return names;
}
