/**
 * Reading pack's configuration files (builder.toml, package.toml) strictly, as pack does: every key must
 * be one the format knows (pack decodes with BurntSushi/toml and fails on `Undecoded()` keys), types are
 * checked, and errors name the file and the dotted key (`builder.toml: unknown key "build.imag"`).
 *
 * Usage: each reader first declares the keys of its table with `allow([...])`, which reports an unknown
 * key before any other check (so a typo is named as such, not as a missing key), then reads them.
 */
import { parse } from 'smol-toml';
import { CairnError, messageOf } from '../oci/errors.js';

type Raw = Record<string, unknown>;

export class StrictTable {
  private constructor(readonly file: string, readonly raw: Raw, readonly path: string, private readonly hint: string) {}

  /** Parses TOML text into the root table; syntax errors name the file. */
  static parse(text: string, file: string, hint: string): StrictTable {
    let raw: Raw;
    try {
      raw = parse(text) as Raw;
    } catch (e) {
      throw new CairnError('INVALID_ARGUMENT', `${file} is not valid TOML: ${messageOf(e).split('\n')[0]}`, { cause: e, hint });
    }
    return new StrictTable(file, raw, '', hint);
  }

  /** The root table of a document the caller parsed (and bounded) itself. */
  static fromParsed(raw: Raw, file: string, hint: string): StrictTable {
    return new StrictTable(file, raw, '', hint);
  }

  /** Throws INVALID_ARGUMENT naming the first key (in file order) not in `known`. Returns the table. */
  allow(known: readonly string[]): this {
    for (const key of Object.keys(this.raw)) {
      if (!known.includes(key)) {
        throw new CairnError('INVALID_ARGUMENT', `${this.file}: unknown key "${this.keyPath(key)}"`, {
          hint: `${this.path === '' ? 'the top-level keys' : `the keys of ${this.path}`} are ${[...known].sort().join(', ')}; ${this.hint}`,
        });
      }
    }
    return this;
  }

  /** The dotted name of a key of this table, e.g. `build.env[0].name`. */
  keyPath(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  fail(key: string, why: string, hint?: string): never {
    throw new CairnError('INVALID_ARGUMENT', `${this.file}: ${this.keyPath(key)} ${why}`, { hint: hint ?? this.hint });
  }

  string(key: string): string | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, `must be a string, not ${describe(v)}`);
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') this.fail(key, 'is required');
    return v;
  }

  strings(key: string): string[] | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(key, `must be a list of strings, not ${describe(v)}`);
    return v as string[];
  }

  boolean(key: string): boolean | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, not ${describe(v)}`);
    return v;
  }

  table(key: string): StrictTable | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (!isTable(v)) this.fail(key, `must be a table, not ${describe(v)}`);
    return this.child(v, this.keyPath(key));
  }

  /** An array of tables (`[[key]]` or `key = [{ … }]`); absent gives []. */
  tables(key: string): StrictTable[] {
    const v = this.take(key);
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isTable)) this.fail(key, `must be an array of tables, not ${describe(v)}`);
    return (v as Raw[]).map((t, i) => this.child(t, `${this.keyPath(key)}[${i}]`));
  }

  private take(key: string): unknown {
    return this.raw[key];
  }

  private child(raw: Raw, path: string): StrictTable {
    return new StrictTable(this.file, raw, path, this.hint);
  }
}

function isTable(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isTable(v)) return 'a table';
  return `${typeof v} ${JSON.stringify(v)}`;
}
