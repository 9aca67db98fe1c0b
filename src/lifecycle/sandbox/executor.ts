/**
 * How the phases run a buildpack's `bin/detect` and `bin/build` (digest §2.2, §2.3): one process with an exact
 * argv, environment and working directory, seeing only the build image's filesystem plus the given mounts.
 * Two executors implement it: `bwrap` (a bubblewrap sandbox over an extracted build-image root filesystem)
 * and `host` (no sandbox, for when cairn itself runs inside the build image, e.g. a Tekton or kpack pod).
 *
 * Environment: exactly `env`, plus `PWD` set to `cwd` (bubblewrap always sets it after changing directory; the
 * host executor does the same so both agree). Nothing of cairn's own environment reaches the process.
 *
 * Result contract, the same for both executors:
 * - `code` is the process's exit status; a process killed by a signal gives 128 + the signal number (as a shell
 *   reports it), and `signal` names it when the executor can tell;
 * - a command that cannot be executed (argv[0] missing, not executable, bad interpreter) gives 127 (missing) or
 *   126 (not executable) with the reason in `output`: that is the buildpack's failure, not cairn's;
 * - on `timeoutMs` the whole process tree is killed (SIGKILL) and the run resolves with `timedOut: true`,
 *   code 137 and signal SIGKILL; on abort the tree is killed and the run rejects with the signal's reason, in both
 *   cases only once every process is gone;
 * - a failure of the executor itself (sandbox cannot be set up, invalid spec) rejects with a CairnError.
 */
import { isAbsolute, posix } from 'node:path';
import { CairnError } from '../../oci/errors.js';

export interface Mount {
  /** Path on the host (a directory or a file). */
  host: string;
  /** Where it appears in the sandbox's namespace. */
  sandbox: string;
  writable: boolean;
}

export interface RunSpec {
  /** argv[0]: absolute path in the sandbox's namespace. */
  argv: string[];
  /** The complete environment: nothing is inherited (PWD is set to cwd, see above). */
  env: Record<string, string>;
  /** In the sandbox's namespace. */
  cwd: string;
  /** Applied in order; a later mount may shadow part of an earlier one. */
  mounts: Mount[];
  /** The CNB user (default 1000:1000 in the phases). */
  uid: number;
  gid: number;
  /** Default true (buildpacks download dependencies). */
  network?: boolean;
  /** Kill the whole process tree after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Live output (verbose mode). Must not throw. */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

export interface RunResult {
  code: number;
  signal?: NodeJS.Signals;
  /** stdout and stderr interleaved in arrival order: the last 1 MiB. */
  output: string;
  /** Set when the run was killed because `timeoutMs` elapsed. */
  timedOut?: boolean;
}

export interface Executor {
  readonly kind: 'bwrap' | 'host';
  run(spec: RunSpec): Promise<RunResult>;
}

/** How much output a RunResult keeps. */
export const OUTPUT_LIMIT = 1024 * 1024;

/**
 * Checks a spec before anything runs. A bad spec is a bug in the phases, hence INTERNAL. NUL bytes are refused
 * everywhere: the sandbox passes its arguments NUL-separated, so a NUL could smuggle in an option.
 */
export function checkRunSpec(spec: RunSpec): void {
  const bad = (why: string): CairnError => new CairnError('INTERNAL', `invalid process spec: ${why}`, { hint: 'this is a bug in cairn; please report it' });
  const text = (s: unknown, what: string): string => {
    if (typeof s !== 'string') throw bad(`${what} is not a string`);
    if (s.includes('\0')) throw bad(`${what} contains a NUL byte`);
    return s;
  };
  const absolute = (s: unknown, what: string): string => {
    const p = text(s, what);
    if (!isAbsolute(p)) throw bad(`${what} ${JSON.stringify(p)} is not an absolute path`);
    return p;
  };
  if (!Array.isArray(spec.argv) || spec.argv.length === 0) throw bad('argv is empty');
  absolute(spec.argv[0], 'argv[0]');
  spec.argv.forEach((a, i) => text(a, `argv[${i}]`));
  for (const [k, v] of Object.entries(spec.env)) {
    if (k === '' || k.includes('=') || k.includes('\0')) throw bad(`environment variable name ${JSON.stringify(k)} is invalid`);
    text(v, `environment variable ${k}`);
  }
  absolute(spec.cwd, 'cwd');
  for (const m of spec.mounts) {
    absolute(m.host, 'mount host path');
    const s = absolute(m.sandbox, 'mount sandbox path');
    if (s === '/') throw bad('a mount cannot replace the root');
    if (posix.normalize(s) !== s || s.endsWith('/')) throw bad(`mount sandbox path ${JSON.stringify(s)} is not normalized`);
    if (typeof m.writable !== 'boolean') throw bad(`mount ${s}: writable is not a boolean`);
  }
  for (const [id, what] of [[spec.uid, 'uid'], [spec.gid, 'gid']] as const) {
    if (!Number.isSafeInteger(id) || id < 0 || id >= 0xffffffff) throw bad(`${what} ${String(id)} is not a valid id`);
  }
  if (spec.timeoutMs !== undefined && !(Number.isFinite(spec.timeoutMs) && spec.timeoutMs > 0)) throw bad(`timeoutMs ${spec.timeoutMs} is not a positive number`);
}
