/**
 * The phase executables' flags, Go style as the Platform API writes them (`-layers /layers`,
 * `-layers=/layers`; `--name` is accepted too), resolved once per phase: flag, then environment variable,
 * then default (digest §4.0-4.1).
 */
import { ExitCode, LifecycleError } from '../exit-codes.js';
import type { Phase } from '../exit-codes.js';

export interface FlagSpec {
  /** Environment variable read when the flag is absent. */
  env?: string;
  /** Default when neither is given. */
  def?: string;
  /** A boolean flag (`-daemon`, `-skip-layers`): takes no value unless written `-flag=false`. */
  bool?: boolean;
  /** Repeatable (`-tag`, `-insecure-registry`). */
  multi?: boolean;
}

export interface ParsedFlags {
  get(name: string): string | undefined;
  all(name: string): string[];
  bool(name: string): boolean;
  positional: string[];
}

export function parseFlags(phase: Phase, args: readonly string[], specs: Record<string, FlagSpec>, env: Readonly<Record<string, string | undefined>>): ParsedFlags {
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = specs[name];
    if (!spec) throw usage(phase, `unknown flag -${name}`, `the ${phase} phase takes: ${Object.keys(specs).map((k) => '-' + k).join(' ')}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.bool) value = 'true';
    else {
      if (i + 1 >= args.length) throw usage(phase, `flag -${name} needs a value`);
      value = args[++i]!;
    }
    values.set(name, [...(spec.multi ? values.get(name) ?? [] : []), value]);
  }
  const lookup = (name: string): string[] => {
    const spec = specs[name];
    if (!spec) throw new Error(`internal: undeclared flag ${name}`);
    const given = values.get(name);
    if (given) return given;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') return spec.multi ? fromEnv.split(',').filter(Boolean) : [fromEnv];
    return spec.def !== undefined ? [spec.def] : [];
  };
  return {
    get: (name) => lookup(name).at(-1),
    all: lookup,
    bool: (name) => ['true', '1'].includes(lookup(name).at(-1) ?? 'false'),
    positional,
  };
}

export function usage(phase: Phase, message: string, hint?: string): LifecycleError {
  return new LifecycleError('INVALID_ARGUMENT', message, { phase, exitCode: ExitCode.invalidArgs, ...(hint ? { hint } : {}) });
}
