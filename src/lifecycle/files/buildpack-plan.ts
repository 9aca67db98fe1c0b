/**
 * The Buildpack Plan given to `bin/build` at `$CNB_BP_PLAN_PATH` (digest §2.4, buildpack spec
 * "Buildpack Plan (TOML)"): the `requires` entries this buildpack was chosen to provide.
 */
import { readRequire, requireToToml, type Require } from './build-plan.js';
import { Fields } from './fields.js';
import { parseToml, stringifyToml } from './toml.js';

export interface BuildpackPlan {
  entries: Require[];
}

export function parseBuildpackPlan(text: string, file = 'plan.toml'): BuildpackPlan {
  const root = new Fields(file, parseToml(text, file));
  return { entries: root.tables('entries').map(readRequire) };
}

export function serializeBuildpackPlan(p: BuildpackPlan): string {
  return stringifyToml({ entries: p.entries.map(requireToToml) });
}
