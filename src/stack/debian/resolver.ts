/**
 * Dependency resolution over a PackageIndex: the closure of the requested packages under Pre-Depends and
 * Depends (Debian Policy §7.2), nothing else — no Recommends, and no implicit Essential or
 * Priority: required packages (a run image holds exactly what was asked for and what it needs).
 *
 * Deterministic rules, in the spirit of apt's candidate-based resolver:
 * - every package name has one candidate, the index's highest version; a constraint the candidate does not
 *   satisfy makes that alternative unusable (there is no fall-back to older versions);
 * - the requested packages are selected first, in the order given; dependencies are then visited breadth
 *   first, fields in the order Pre-Depends, Depends;
 * - an OR-group already satisfied by a selected package (by name or through Provides) adds nothing;
 *   otherwise its alternatives are tried in order: the real package if its candidate satisfies the
 *   constraint, else a provider of that name (Policy §7.5; a versioned dependency needs a versioned
 *   Provides), the provider with the highest Priority and then the lowest name winning;
 * - a group naming an excluded package is treated as satisfied (the caller accepts the gap);
 * - a selected package that Conflicts with or Breaks another selected one is an error (INVALID_ARGUMENT).
 * An unknown package or unsatisfiable dependency is NOT_FOUND, with the chain that led to it.
 */
import { CairnError } from '../../oci/errors.js';
import { type IndexedPackage, PackageIndex } from './package-index.js';
import { type Alternatives, formatRelation, type Relation } from './relations.js';

export interface ResolveOptions {
  /** Describes the index in errors, e.g. "bookworm, bookworm-updates, bookworm-security (amd64; main)". */
  where: string;
  /**
   * Names (real or virtual) never installed: a dependency group naming one of them counts as satisfied.
   * For images that keep only what their programs need (e.g. no openssl CLI just because
   * ca-certificates' maintainer script uses it).
   */
  exclude?: readonly string[];
}

const PRIORITY_RANK: Record<string, number> = { required: 0, important: 1, standard: 2, optional: 3, extra: 4 };

/** Resolves `requested` to the full package set, sorted by name. */
export function resolvePackages(index: PackageIndex, requested: readonly string[], opts: ResolveOptions): IndexedPackage[] {
  const selected = new Map<string, IndexedPackage>();
  /** How each package was reached: its parent and the relation that pulled it in (for error chains). */
  const via = new Map<string, { parent: string; relation: string } | undefined>();
  const queue: IndexedPackage[] = [];
  const select = (p: IndexedPackage, from: { parent: string; relation: string } | undefined): void => {
    if (selected.has(p.name)) return;
    selected.set(p.name, p);
    via.set(p.name, from);
    queue.push(p);
  };

  const excluded = new Set(opts.exclude ?? []);
  for (const name of requested) {
    if (excluded.has(name)) {
      throw new CairnError('INVALID_ARGUMENT', `"${name}" is both requested and excluded`, { hint: 'remove it from one of the two lists in stack.toml' });
    }
    const p = index.get(name);
    if (p) {
      select(p, undefined);
      continue;
    }
    const providers = index.providers(name);
    if (providers.length === 1) {
      select(providers[0]!, undefined);
      continue;
    }
    if (providers.length > 1) {
      throw new CairnError('INVALID_ARGUMENT', `"${name}" is a virtual package provided by ${providers.map((x) => x.name).join(', ')}`, {
        hint: 'list the one you want in stack.toml instead',
      });
    }
    throw new CairnError('NOT_FOUND', `package "${name}" not found in ${opts.where}`, {
      hint: 'check the spelling (apt-cache search on a Debian machine helps), the suite and the components in stack.toml',
    });
  }

  const chainOf = (name: string): string[] => {
    const out = [name];
    for (let cur = via.get(name); cur; cur = via.get(cur.parent)) out.unshift(cur.parent);
    return out;
  };
  const satisfiedBySelected = (r: Relation): boolean => {
    if (!archOk(r, index.arch)) return false;
    const real = selected.get(r.name);
    if (real && PackageIndex.satisfies(real, r)) return true;
    return [...selected.values()].some((p) => p.name !== r.name && PackageIndex.satisfies(p, r));
  };

  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const field of ['Pre-Depends', 'Depends']) {
      for (const group of p.relations(field)) {
        if (group.some((r) => excluded.has(r.name)) || group.some(satisfiedBySelected)) continue;
        const choice = choose(index, group);
        if (!choice) {
          throw new CairnError('NOT_FOUND', `unsatisfiable dependency: ${[...chainOf(p.name), describeFailure(index, group)].join(' → ')}`, {
            hint: `no package in ${opts.where} satisfies it; check the suite (and -updates/-security) in stack.toml, or refresh the index`,
          });
        }
        select(choice.pkg, { parent: p.name, relation: formatRelation(choice.relation) });
      }
    }
  }

  const result = [...selected.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  checkConflicts(result, index.arch);
  return result;
}

/** `:any`, `:native` and the index's own architecture are fine; another architecture never is here. */
function archOk(r: Relation, arch: string): boolean {
  return r.archQualifier === undefined || r.archQualifier === 'any' || r.archQualifier === 'native' || r.archQualifier === arch;
}

function choose(index: PackageIndex, group: Alternatives): { pkg: IndexedPackage; relation: Relation } | undefined {
  for (const r of group) {
    if (!archOk(r, index.arch)) continue;
    const real = index.get(r.name);
    if (real && PackageIndex.satisfies(real, r)) return { pkg: real, relation: r };
    const providers = index.providers(r.name, r.constraint).sort(
      (a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    if (providers[0]) return { pkg: providers[0], relation: r };
  }
  return undefined;
}

function rank(p: IndexedPackage): number {
  return PRIORITY_RANK[p.priority ?? ''] ?? 5;
}

/** `libc6-dev (>= 2.99) not found (candidate 2.36-9)` for each alternative of a failed group. */
function describeFailure(index: PackageIndex, group: Alternatives): string {
  return group
    .map((r) => {
      const text = formatRelation(r);
      if (!archOk(r, index.arch)) return `${text} not available for ${index.arch}`;
      const real = index.get(r.name);
      if (real) return `${text} not found (candidate ${real.version})`;
      return `${text} not found`;
    })
    .join(' | ');
}

/** Conflicts and Breaks among the selected packages (Policy §7.4, §7.6.1). */
function checkConflicts(selected: readonly IndexedPackage[], arch: string): void {
  for (const p of selected) {
    for (const field of ['Conflicts', 'Breaks']) {
      for (const r of p.relations(field).flat()) {
        if (!archOk(r, arch)) continue;
        for (const q of selected) {
          if (q === p) continue;
          // A package may conflict with a virtual name it provides itself; only other packages count.
          const hit = q.name === r.name ? PackageIndex.satisfies(q, r) : !r.constraint && q.provides.some((pr) => pr.name === r.name);
          if (hit) {
            throw new CairnError('INVALID_ARGUMENT', `${p.name} ${p.version} ${field === 'Conflicts' ? 'conflicts with' : 'breaks'} ${q.name} ${q.version} (${field}: ${formatRelation(r)})`, {
              hint: 'remove one of them from the packages in stack.toml, or list an alternative explicitly',
            });
          }
        }
      }
    }
  }
}
