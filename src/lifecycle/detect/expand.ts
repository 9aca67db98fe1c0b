/**
 * Group expansion (digest §3.2, buildpack spec "Order Resolution", reference `Detector.detectOrder/detectGroup`):
 * turns an order into the flat candidate groups detection tries, lazily and in the order they are tried.
 *
 * - Composite buildpacks expand depth-first, left-to-right: `[E, O, F]` with `O = [[A, B], [C, D]]` gives
 *   `[E, A, B, F]`, `[E, C, D, F]`; nested orders multiply out.
 * - An optional composite is followed by the same group without it (its other entries are already handled:
 *   an optional component simply drops out when its detection fails).
 * - An extensions order is prepended to every buildpack group as an always-optional nested order.
 * - An ID already in the candidate group (same kind) is skipped: the first occurrence wins.
 * - With an execution environment (Platform ≥ 0.15), an entry whose own `exec-env` or whose module's
 *   `exec-env` (Buildpack API ≥ 0.12) excludes it is skipped, as if absent.
 * - Every module looked up must have a supported Buildpack API (else exit 12).
 */
import { atLeast, checkBuildpackApi, parseApiVersion } from '../api.js';
import { execEnvAllows } from '../exec-env.js';
import type { ModuleRef, OrderGroup } from '../files/module-ref.js';
import type { ModuleInfo, ModuleKind, ModuleLookup } from './module.js';

/** One element of a flat candidate group. */
export interface GroupElement {
  module: ModuleInfo;
  optional: boolean;
}

/** An entry of a group being expanded: a reference, or the prepended extensions order. */
type Entry = { kind: ModuleKind; ref: ModuleRef } | { extensions: readonly OrderGroup[] };

export interface ExpandOptions {
  /** `CNB_EXEC_ENV`, when filtering by execution environment applies (Platform ≥ 0.15). */
  execEnv?: string;
}

/**
 * Yields every candidate group of `order` (with `orderExtensions`, if any, prepended to each), in trial order.
 * Looks modules up as it goes, so only groups actually tried cost lookups.
 */
export async function* expandOrder(
  order: readonly OrderGroup[],
  orderExtensions: readonly OrderGroup[],
  lookup: ModuleLookup,
  opts: ExpandOptions = {},
): AsyncGenerator<GroupElement[]> {
  const cache = new Map<string, Promise<ModuleInfo>>();
  const find = (kind: ModuleKind, ref: ModuleRef): Promise<ModuleInfo> => {
    const key = `${kind} ${ref.id}@${ref.version}`;
    let p = cache.get(key);
    if (!p) {
      p = lookup(kind, ref.id, ref.version).then((m) => {
        checkBuildpackApi(m.api, { id: m.id, version: m.version }, 'detect');
        return m;
      });
      cache.set(key, p);
    }
    return p;
  };

  const allowed = (ref: ModuleRef, m: ModuleInfo): boolean => {
    if (opts.execEnv === undefined || opts.execEnv === '') return true;
    const own = atLeast(parseApiVersion(m.api), '0.12') ? m.execEnv : [];
    return execEnvAllows(ref.execEnv, opts.execEnv) && execEnvAllows(own, opts.execEnv);
  };

  async function* orderGroups(groups: readonly OrderGroup[], kind: ModuleKind, next: readonly Entry[], done: readonly GroupElement[], optional: boolean): AsyncGenerator<GroupElement[]> {
    for (const g of groups) yield* group([...g.group.map((ref) => ({ kind, ref })), ...next], done);
    if (optional) yield* group(next, done);
  }

  async function* group(entries: readonly Entry[], done: readonly GroupElement[]): AsyncGenerator<GroupElement[]> {
    let acc = [...done];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const rest = entries.slice(i + 1);
      if ('extensions' in e) {
        yield* orderGroups(e.extensions, 'extension', rest, acc, true);
        return;
      }
      if (acc.some((x) => x.module.kind === e.kind && x.module.id === e.ref.id)) continue;
      const m = await find(e.kind, e.ref);
      if (!allowed(e.ref, m)) continue;
      if (m.order.length > 0) {
        yield* orderGroups(m.order, 'buildpack', rest, acc, e.ref.optional);
        return;
      }
      acc = [...acc, { module: m, optional: e.kind === 'extension' || e.ref.optional }];
    }
    yield acc;
  }

  const prefix: Entry[] = orderExtensions.length > 0 ? [{ extensions: orderExtensions }] : [];
  for (const g of order) yield* group([...prefix, ...g.group.map((ref) => ({ kind: 'buildpack' as const, ref }))], []);
}
