/**
 * Environment modification files (digest §2.8, buildpack spec "Environment Variable Modification Rules").
 *
 * The variable is the file name up to the first `.`, the action the rest: `override`, `default`, `prepend`,
 * `append`; `delim` gives the delimiter for that variable's prepend/append in the same directory. No suffix
 * takes the caller's default action: override for buildpack layers (Buildpack API ≥ 0.5), default for the
 * operator's `<build-config>/env`. Contents are used raw (no trimming). Files are applied in file-name order
 * (as Go's `os.ReadDir` lists them), so applying directory after directory gives the spec's precedence.
 *
 * Pitfalls kept from the reference: without a `.delim` file prepend/append join with no separator; an empty
 * or unset value takes no delimiter; `default` applies when the value is empty; unknown suffixes are ignored.
 */
import type { Env } from './env.js';

export type EnvAction = 'override' | 'default' | 'prepend' | 'append';

/** One file of an env directory. */
export interface EnvFile {
  /** File name, e.g. `PATH.prepend`. */
  name: string;
  contents: string;
}

const ACTIONS: ReadonlySet<string> = new Set(['override', 'default', 'prepend', 'append']);

/** Splits a file name into variable and suffix (`undefined` when there is no `.`). */
export function parseEnvFileName(fileName: string): { variable: string; suffix: string | undefined } {
  const dot = fileName.indexOf('.');
  return dot < 0 ? { variable: fileName, suffix: undefined } : { variable: fileName.slice(0, dot), suffix: fileName.slice(dot + 1) };
}

/** A usable variable name: non-empty, without `=` or NUL (anything else would corrupt the environment). */
export function isValidEnvName(name: string): boolean {
  return name !== '' && !name.includes('=') && !name.includes('\0');
}

/** Byte-wise order of UTF-8 names, as Go sorts directory entries. */
export function compareFileNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function applyEnvAction(env: Env, variable: string, action: EnvAction, value: string, delim: string): Env {
  const current = env.get(variable);
  switch (action) {
    case 'override':
      return env.set(variable, value);
    case 'default':
      return current === '' ? env.set(variable, value) : env;
    case 'prepend':
      return env.set(variable, current === '' ? value : value + delim + current);
    case 'append':
      return env.set(variable, current === '' ? value : current + delim + value);
  }
}

/** Applies one directory's files to `env`. `files` may be in any order. */
export function applyEnvFiles(env: Env, files: readonly EnvFile[], defaultAction: EnvAction): Env {
  const sorted = [...files].sort((a, b) => compareFileNames(a.name, b.name));
  const delims = new Map(sorted.filter((f) => f.name.endsWith('.delim')).map((f) => [f.name.slice(0, -'.delim'.length), f.contents]));
  let out = env;
  for (const f of sorted) {
    const { variable, suffix } = parseEnvFileName(f.name);
    if (!isValidEnvName(variable)) continue;
    const action = suffix === undefined ? defaultAction : suffix;
    if (!ACTIONS.has(action)) continue;
    out = applyEnvAction(out, variable, action as EnvAction, f.contents, delims.get(variable) ?? '');
  }
  return out;
}
