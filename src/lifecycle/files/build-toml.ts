/**
 * `<layers>/<bp>/build.toml` (digest §2.4, buildpack spec "build.toml"): `[[unmet]]` names the Buildpack Plan
 * entries the buildpack did not meet; they pass to the next buildpack providing that name.
 */
import { readRequire, requireToToml, type Require } from './build-plan.js';
import type { BuildpackPlan } from './buildpack-plan.js';
import { Fields } from './fields.js';
import { invalidFile, parseToml, stringifyToml } from './toml.js';

export interface BuildToml {
  unmet: string[];
  /** Legacy `[[bom]]` (deprecated since Buildpack API 0.7). */
  bom: Require[];
}

const HINT = 'fix the build.toml the buildpack writes: [[unmet]] name = "<plan entry name>"';

export function parseBuildToml(text: string, file = 'build.toml'): BuildToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  return { unmet: root.tables('unmet').map((u) => u.requiredString('name')), bom: root.tables('bom').map(readRequire) };
}

export function serializeBuildToml(b: BuildToml): string {
  return stringifyToml({
    unmet: b.unmet.length > 0 ? b.unmet.map((name) => ({ name })) : undefined,
    bom: b.bom.length > 0 ? b.bom.map(requireToToml) : undefined,
  });
}

/** Every unmet name must be an entry of the buildpack's plan (reference `validateUnmet`). */
export function checkUnmet(b: BuildToml, plan: BuildpackPlan, file = 'build.toml'): void {
  b.unmet.forEach((name, i) => {
    if (!plan.entries.some((e) => e.name === name)) {
      throw invalidFile(file, `unmet[${i}].name: "${name}" is not an entry of the buildpack plan`, 'list only names the buildpack was asked to provide');
    }
  });
}

/** The names a buildpack met: its plan's entry names minus the unmet ones. */
export function metNames(b: BuildToml, plan: BuildpackPlan): string[] {
  const unmet = new Set(b.unmet);
  return plan.entries.filter((e) => !unmet.has(e.name)).map((e) => e.name);
}
