/**
 * Build-plan resolution for one candidate group (digest §3.3 steps 3–5, buildpack spec "Phase #1: Detection",
 * reference `DefaultDetectResolver.runTrials/runTrial` and `depMap`).
 *
 * Each passing element offers options: its top-level `(requires, provides)`, then each `[[or]]` entry. Trials
 * pick one option per element, enumerated depth-first, left to right (first element's first option, …). An
 * optional element counts as optional only on its **last** option (reference detail).
 *
 * A trial walks its elements in order, registering each element's provides, then its requires:
 * - a require is met when the same or an earlier element provided that name since the last require of it
 *   (those pending provides become the entry's providers), or when the name already has providers;
 * - a provide is unused when no same-or-later element requires that name afterwards.
 * If any element with an unmet require or unused provide is required, the trial fails; otherwise all those
 * (optional) elements are dropped together and the walk is repeated until nothing is unmet. A trial left with
 * no elements fails. The first successful trial wins; its elements, in order, are the selected group.
 */
import type { BuildPlan, PlanSections, Require } from '../files/build-plan.js';

export interface PlanElement {
  optional: boolean;
  plan: BuildPlan;
}

export interface ResolvedEntry<T> {
  name: string;
  providers: T[];
  requires: Require[];
}

export interface ResolvedPlan<T> {
  /** The elements kept, in group order. */
  selected: T[];
  /** One per dependency name, in the order names were first met. */
  entries: ResolvedEntry<T>[];
  /** Which trial succeeded (1-based), for logs. */
  trial: number;
}

/** Upper bound on trials per group: `[[or]]` lists multiply, and buildpack output is untrusted. */
export const MAX_TRIALS = 65536;

interface Option<T> {
  el: T;
  optional: boolean;
  sections: PlanSections;
}

function optionsOf<T extends PlanElement>(el: T): Option<T>[] {
  const all = [el.plan, ...el.plan.or];
  return all.map((sections, i) => ({ el, optional: el.optional && i === all.length - 1, sections }));
}

interface Dep<T> {
  providers: T[];
  requires: Require[];
  pendingProvides: Option<T>[];
  earlyRequires: Option<T>[];
}

function dependencies<T>(trial: readonly Option<T>[]): Map<string, Dep<T>> {
  const deps = new Map<string, Dep<T>>();
  const dep = (name: string): Dep<T> => {
    let d = deps.get(name);
    if (!d) deps.set(name, (d = { providers: [], requires: [], pendingProvides: [], earlyRequires: [] }));
    return d;
  };
  for (const o of trial) {
    for (const p of o.sections.provides) dep(p.name).pendingProvides.push(o);
    for (const r of o.sections.requires) {
      const d = dep(r.name);
      for (const p of d.pendingProvides) if (!d.providers.includes(p.el)) d.providers.push(p.el);
      d.pendingProvides = [];
      if (d.providers.length === 0) d.earlyRequires.push(o);
      else d.requires.push(r);
    }
  }
  return deps;
}

/** Runs one trial to a stable state; undefined when it fails. */
function runTrial<T>(options: readonly Option<T>[], n: number): ResolvedPlan<T> | undefined {
  let trial = options;
  for (;;) {
    const deps = dependencies(trial);
    const unmet = new Set<Option<T>>();
    for (const d of deps.values()) for (const o of [...d.earlyRequires, ...d.pendingProvides]) unmet.add(o);
    if (unmet.size === 0) {
      if (trial.length === 0) return undefined;
      const entries = [...deps].map(([name, d]) => ({ name, providers: d.providers, requires: d.requires }));
      return { selected: trial.map((o) => o.el), entries, trial: n };
    }
    if ([...unmet].some((o) => !o.optional)) return undefined;
    trial = trial.filter((o) => !unmet.has(o));
  }
}

/**
 * Resolves a group's plan from its passing elements (in group order). Undefined when every trial fails (or
 * there are more than MAX_TRIALS).
 */
export function resolvePlan<T extends PlanElement>(elements: readonly T[]): ResolvedPlan<T> | undefined {
  const perElement = elements.map(optionsOf);
  let trials = 0;
  const walk = (i: number, prefix: Option<T>[]): ResolvedPlan<T> | undefined => {
    if (i === perElement.length) {
      if (++trials > MAX_TRIALS) return undefined;
      return runTrial(prefix, trials);
    }
    for (const o of perElement[i]!) {
      if (trials > MAX_TRIALS) return undefined;
      const r = walk(i + 1, [...prefix, o]);
      if (r) return r;
    }
    return undefined;
  };
  return walk(0, []);
}
