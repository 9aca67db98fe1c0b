/**
 * plan.toml, the resolved plan the detector writes (digest §3.4, platform spec "plan.toml"), and the two
 * operations the builder performs on it (reference `files.Plan.Find` / `Filter`, digest §2.4).
 *
 * Every entry has at least one provider and at least one require, and all its requires share one name.
 */
import { checkBuildpackId } from '../ids.js';
import { readRequire, requireToToml, type Require } from './build-plan.js';
import type { BuildpackPlan } from './buildpack-plan.js';
import { Fields } from './fields.js';
import { parseToml, stringifyToml } from './toml.js';

export interface PlanProvider {
  id: string;
  version: string;
  /** The provider is an image extension. */
  extension: boolean;
}

export interface PlanEntry {
  providers: PlanProvider[];
  requires: Require[];
}

export interface PlanToml {
  entries: PlanEntry[];
}

const HINT = 'plan.toml is written by the detector; re-run detection';

export function parsePlanToml(text: string, file = 'plan.toml'): PlanToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  const entries = root.tables('entries').map((e): PlanEntry => {
    const providers = e.tables('providers').map((p) => {
      const id = p.requiredString('id');
      const why = checkBuildpackId(id);
      if (why) p.fail('id', why);
      return { id, version: p.requiredString('version'), extension: p.boolean('extension') ?? false };
    });
    const requires = e.tables('requires').map(readRequire);
    if (providers.length === 0) e.fail('providers', 'an entry needs at least one provider');
    if (requires.length === 0) e.fail('requires', 'an entry needs at least one require');
    const name = requires[0]!.name;
    requires.forEach((r, i) => {
      if (r.name !== name) e.fail(`requires[${i}].name`, `"${r.name}" differs from "${name}"; all requires of an entry share one name`);
    });
    return { providers, requires };
  });
  return { entries };
}

export function serializePlanToml(p: PlanToml): string {
  return stringifyToml({
    entries: p.entries.map((e) => ({
      providers: e.providers.map((x) => ({ id: x.id, version: x.version, extension: x.extension ? true : undefined })),
      requires: e.requires.map(requireToToml),
    })),
  });
}

/** The Buildpack Plan of one provider: the requires of every entry that lists it (reference `Plan.Find`). */
export function buildpackPlanFor(plan: PlanToml, id: string, extension = false): BuildpackPlan {
  const entries: Require[] = [];
  for (const e of plan.entries) {
    if (e.providers.some((p) => p.id === id && p.extension === extension)) entries.push(...e.requires);
  }
  return { entries };
}

/**
 * The plan left for later buildpacks once one has met `met` names (its plan minus its `[[unmet]]`): every
 * entry requiring a met name is removed (reference `Plan.Filter`). Unmet entries stay for the next provider.
 */
export function withoutMet(plan: PlanToml, met: readonly string[]): PlanToml {
  const done = new Set(met);
  return { entries: plan.entries.filter((e) => !e.requires.some((r) => done.has(r.name))) };
}
