/**
 * Typed access to a parsed TOML table that reports mistakes by file and dotted field path, e.g.
 * `invalid order.toml: order[0].group[1].version: expected a string, got integer`.
 * Keys not asked for are ignored (the lifecycle ignores unknown keys, digest §1). The same readers validate
 * JSON labels, where `null` counts as absent.
 */
import { canonical, invalidFile, type TomlTable } from './toml.js';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'datetime';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (v !== null && typeof v === 'object') return 'table';
  return typeof v;
}

function isTable(v: unknown): v is TomlTable {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

export class Fields {
  constructor(
    readonly file: string,
    /** The underlying parsed table. */
    readonly raw: TomlTable,
    readonly path = '',
    private readonly hint?: string,
  ) {}

  /** Dotted path of a key of this table. */
  at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  /** Throws INVALID_LIFECYCLE_FILE for `key` (or this table when key is undefined). */
  fail(key: string | undefined, message: string, hint?: string): never {
    const where = key === undefined ? this.path : this.at(key);
    throw invalidFile(this.file, where === '' ? message : `${where}: ${message}`, hint ?? this.hint);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** The value of `key`; JSON `null` (labels are read with these readers too) counts as absent. */
  private get(key: string): unknown {
    return Object.hasOwn(this.raw, key) ? (this.raw[key] ?? undefined) : undefined;
  }

  private expect(key: string, v: unknown, what: string): never {
    return this.fail(key, `expected ${what}, got ${typeName(v)}`);
  }

  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return this.expect(key, v, 'a string');
    return v;
  }

  /** A string that must be present and non-empty. */
  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') return this.fail(key, 'is required');
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.expect(key, v, 'a boolean');
    return v;
  }

  integer(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return this.expect(key, v, 'an integer');
    return v;
  }

  strings(key: string): string[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.expect(key, v, 'an array of strings');
    v.forEach((x, i) => {
      if (typeof x !== 'string') this.fail(`${key}[${i}]`, `expected a string, got ${typeName(x)}`);
    });
    return [...(v as string[])];
  }

  table(key: string): Fields | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isTable(v)) return this.expect(key, v, 'a table');
    return new Fields(this.file, v, this.at(key), this.hint);
  }

  /** An array of tables (`[[key]]` or `key = [{…}]`); empty when absent. */
  tables(key: string): Fields[] {
    const v = this.get(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) return this.expect(key, v, 'an array of tables');
    return v.map((x, i) => {
      if (!isTable(x)) return this.fail(`${key}[${i}]`, `expected a table, got ${typeName(x)}`);
      return new Fields(this.file, x, `${this.at(key)}[${i}]`, this.hint);
    });
  }

  /** A free-form table (buildpack metadata), copied with sorted keys; undefined when absent. */
  freeform(key: string): Record<string, unknown> | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isTable(v)) return this.expect(key, v, 'a table');
    return canonical(v) as Record<string, unknown>;
  }
}
