/**
 * The Build Plan a buildpack's `bin/detect` writes to `$CNB_BUILD_PLAN_PATH` (digest §2.4, buildpack spec
 * "Build Plan (TOML)"): top-level `provides`/`requires` plus zero or more `[[or]]` alternatives.
 *
 * As in the reference lifecycle, a `requires` entry with a top-level `version` is rejected (use
 * `metadata.version`), and an image extension may not write `requires` at all.
 */
import { Fields } from './fields.js';
import { canonical, parseToml, stringifyToml, type TomlTable } from './toml.js';

export interface Provide {
  name: string;
}

export interface Require {
  name: string;
  /** Free-form; empty when absent. */
  metadata: Record<string, unknown>;
}

/** One `(requires, provides)` pair. */
export interface PlanSections {
  provides: Provide[];
  requires: Require[];
}

export interface BuildPlan extends PlanSections {
  or: PlanSections[];
}

export interface BuildPlanOptions {
  /** The writer is an image extension: `requires` is not allowed. */
  extension?: boolean;
}

const HINT = 'the buildpack wrote an invalid build plan: see https://github.com/buildpacks/spec/blob/main/buildpack.md#build-plan-toml';

/** A `requires` entry (also used for Buildpack Plan and plan.toml entries). */
export function readRequire(f: Fields): Require {
  if (f.string('version')) {
    f.fail('version', 'a top-level "version" is not supported', 'put the version in metadata.version instead');
  }
  return { name: f.requiredString('name'), metadata: f.freeform('metadata') ?? {} };
}

export function requireToToml(r: Require): TomlTable {
  return { name: r.name, metadata: Object.keys(r.metadata).length > 0 ? canonical(r.metadata) : undefined };
}

function readSections(f: Fields, opts: BuildPlanOptions): PlanSections {
  const requires = f.tables('requires').map(readRequire);
  if (opts.extension && requires.length > 0) {
    f.fail('requires', 'an image extension may only write "provides"');
  }
  return { provides: f.tables('provides').map((p) => ({ name: p.requiredString('name') })), requires };
}

/** Parses a Build Plan; an empty document is an empty plan. */
export function parseBuildPlan(text: string, file = 'plan.toml', opts: BuildPlanOptions = {}): BuildPlan {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  return { ...readSections(root, opts), or: root.tables('or').map((o) => readSections(o, opts)) };
}

function sectionsToToml(s: PlanSections): TomlTable {
  return {
    provides: s.provides.length > 0 ? s.provides.map((p) => ({ name: p.name })) : undefined,
    requires: s.requires.length > 0 ? s.requires.map(requireToToml) : undefined,
  };
}

export function serializeBuildPlan(p: BuildPlan): string {
  return stringifyToml({ ...sectionsToToml(p), or: p.or.length > 0 ? p.or.map(sectionsToToml) : undefined });
}
