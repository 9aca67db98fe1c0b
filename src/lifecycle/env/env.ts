/**
 * An environment as an immutable ordered map. Every change returns a new Env; a replaced variable keeps its
 * position, a new one goes last. Names are case-sensitive (Linux). An unset variable and an empty one are the
 * same for the modification rules (reference `Vars.Get` returns "").
 */
export class Env {
  private constructor(private readonly vars: ReadonlyMap<string, string>) {}

  static empty(): Env {
    return new Env(new Map());
  }

  /** From a record (e.g. an injected process environment; undefined values are skipped) or pairs. */
  static from(source: Readonly<Record<string, string | undefined>> | Iterable<readonly [string, string]>): Env {
    const m = new Map<string, string>();
    const pairs = Symbol.iterator in source ? (source as Iterable<readonly [string, string]>) : Object.entries(source as Record<string, string | undefined>);
    for (const [k, v] of pairs) if (v !== undefined) m.set(k, v);
    return new Env(m);
  }

  /** The value, or '' when unset. */
  get(name: string): string {
    return this.vars.get(name) ?? '';
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  set(name: string, value: string): Env {
    const m = new Map(this.vars);
    m.set(name, value);
    return new Env(m);
  }

  delete(name: string): Env {
    if (!this.vars.has(name)) return this;
    const m = new Map(this.vars);
    m.delete(name);
    return new Env(m);
  }

  /** Keeps only the variables `keep` accepts. */
  filter(keep: (name: string, value: string) => boolean): Env {
    return new Env(new Map([...this.vars].filter(([k, v]) => keep(k, v))));
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  entries(): [string, string][] {
    return [...this.vars];
  }

  toRecord(): Record<string, string> {
    return Object.fromEntries(this.vars);
  }

  /** `NAME=value` strings, in order. */
  toList(): string[] {
    return [...this.vars].map(([k, v]) => `${k}=${v}`);
  }
}
