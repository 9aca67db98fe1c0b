/**
 * References to buildpacks/extensions in orders (order.toml, buildpack.toml `[[order]]`, system.toml) and the
 * `exec-env` lists found across the files (digest §2.1, §3.1).
 */
import { checkBuildpackId, checkExecEnvName } from '../ids.js';
import type { Fields } from './fields.js';
import type { TomlTable } from './toml.js';

export interface ModuleRef {
  id: string;
  version: string;
  /** Defaults to false. */
  optional: boolean;
  /** Execution environments this entry applies to (Buildpack API 0.12); empty = all. */
  execEnv: string[];
}

export interface OrderGroup {
  group: ModuleRef[];
}

/**
 * Reads an `exec-env` list in either form: the reference/pack string array `exec-env = ["production"]` or
 * the spec's array of tables `[[exec-env]] name = "production"` (digest §12). Absent: empty.
 */
export function readExecEnv(f: Fields, key = 'exec-env'): string[] {
  const v = f.raw[key];
  if (v === undefined) return [];
  const names =
    Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))
      ? f.tables(key).map((t) => t.requiredString('name'))
      : (f.strings(key) ?? []);
  names.forEach((n, i) => {
    const why = checkExecEnvName(n);
    if (why) f.fail(`${key}[${i}]`, why);
  });
  return names;
}

/** One group entry; `id` and `version` are required (platform spec "order.toml", "system.toml"). */
export function readModuleRef(f: Fields): ModuleRef {
  const id = f.requiredString('id');
  const why = checkBuildpackId(id);
  if (why) f.fail('id', why);
  return {
    id,
    version: f.requiredString('version'),
    optional: f.boolean('optional') ?? false,
    execEnv: readExecEnv(f),
  };
}

export function moduleRefToToml(r: ModuleRef): TomlTable {
  return {
    id: r.id,
    version: r.version,
    optional: r.optional ? true : undefined,
    'exec-env': r.execEnv.length > 0 ? [...r.execEnv] : undefined,
  };
}

/** `[[<key>]] group = [...]`. */
export function readOrder(f: Fields, key: string): OrderGroup[] {
  return f.tables(key).map((g) => ({ group: g.tables('group').map(readModuleRef) }));
}

export function orderToToml(order: readonly OrderGroup[]): TomlTable[] {
  return order.map((g) => ({ group: g.group.map(moduleRefToToml) }));
}
