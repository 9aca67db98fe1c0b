/**
 * Lifecycle exit codes (digest §4.0, platform spec "Exit Code" tables) and the error every phase throws.
 *
 * Ranges: generic 1–10 and 13–19, Platform API 11, Buildpack API 12, detect 20–29, analyze 30–39,
 * restore 40–49, build 50–59, export 60–69, rebase 70–79, launch 80–89, generate 91–99, extend 100–109.
 * Where the spec gives a range, the value is the reference lifecycle's (`platform/exit.go`, `cmd/exit.go`).
 */
import { CairnError, type ErrorCode } from '../oci/errors.js';

export const ExitCode = {
  success: 0,
  /** Generic lifecycle failure. */
  failed: 1,
  invalidArgs: 3,
  incompatiblePlatformApi: 11,
  incompatibleBuildpackApi: 12,
  /** Every group failed detection, no buildpack errored. */
  detectFailed: 20,
  /** Every group failed detection and at least one buildpack errored. */
  detectErrored: 21,
  detectError: 22,
  analyzeError: 32,
  restoreError: 42,
  /** A buildpack's `bin/build` failed. */
  buildpackFailed: 51,
  buildError: 52,
  exportError: 62,
  rebaseError: 72,
  launchError: 82,
  /** An extension's `bin/generate` failed. */
  generateFailed: 91,
  generateError: 92,
  extendError: 102,
} as const;

export type Phase = 'analyze' | 'detect' | 'restore' | 'build' | 'export' | 'rebase' | 'launch' | 'generate' | 'extend';

/** The inclusive exit-code range reserved for each phase's own errors. */
export const PHASE_EXIT_RANGES: Readonly<Record<Phase, readonly [number, number]>> = {
  detect: [20, 29],
  analyze: [30, 39],
  restore: [40, 49],
  build: [50, 59],
  export: [60, 69],
  rebase: [70, 79],
  launch: [80, 89],
  generate: [91, 99],
  extend: [100, 109],
};

const GENERIC_PHASE_CODE: Readonly<Record<Phase, number>> = {
  detect: ExitCode.detectError,
  analyze: ExitCode.analyzeError,
  restore: ExitCode.restoreError,
  build: ExitCode.buildError,
  export: ExitCode.exportError,
  rebase: ExitCode.rebaseError,
  launch: ExitCode.launchError,
  generate: ExitCode.generateError,
  extend: ExitCode.extendError,
};

/** The generic error code of a phase (detect 22, analyze 32, restore 42, build 52, …). */
export function phaseErrorCode(phase: Phase): number {
  return GENERIC_PHASE_CODE[phase];
}

/** True when `code` is 11, 12, a generic code (1–10, 13–19) or inside the phase's own range. */
export function isValidExitCode(phase: Phase, code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 1 && code <= 19) return true;
  const [lo, hi] = PHASE_EXIT_RANGES[phase];
  return code >= lo && code <= hi;
}

/** A buildpack (or extension) an error is about. */
export interface ModuleIdentity {
  id: string;
  version: string;
}

export interface LifecycleErrorOptions {
  phase: Phase;
  exitCode: number;
  /** The buildpack whose action failed, when one did. */
  buildpack?: ModuleIdentity;
  /** Its combined stdout/stderr, shown (tail) in the message. */
  output?: string;
  cause?: unknown;
  hint?: string;
}

/** How much of a buildpack's output the message repeats; `output` always keeps all of it. */
const OUTPUT_TAIL_LINES = 40;
const OUTPUT_TAIL_CHARS = 8 * 1024;

/** The last lines of a process output, for error messages. */
export function outputTail(output: string): string {
  let text = output.replace(/\s+$/, '');
  let truncated = false;
  if (text.length > OUTPUT_TAIL_CHARS) {
    text = text.slice(text.length - OUTPUT_TAIL_CHARS);
    truncated = true;
  }
  const lines = text.split('\n');
  if (lines.length > OUTPUT_TAIL_LINES) {
    lines.splice(0, lines.length - OUTPUT_TAIL_LINES);
    truncated = true;
  }
  return (truncated ? '[…]\n' : '') + lines.join('\n');
}

/**
 * A lifecycle failure: carries the phase, the process exit code the phase must end with, the buildpack at
 * fault (if any) and that buildpack's output. The message names phase and buildpack and ends with the tail of
 * the output, so the CLI's `error: <message>` shows what the buildpack printed.
 */
export class LifecycleError extends CairnError {
  readonly phase: Phase;
  readonly exitCode: number;
  readonly buildpack: ModuleIdentity | undefined;
  readonly output: string | undefined;

  constructor(code: ErrorCode, message: string, options: LifecycleErrorOptions) {
    const who = options.buildpack ? ` (buildpack ${options.buildpack.id}@${options.buildpack.version})` : '';
    const out = options.output && options.output.trim() !== '' ? `\n--- output ---\n${outputTail(options.output)}` : '';
    super(code, `${options.phase}: ${message}${who}${out}`, { cause: options.cause, hint: options.hint });
    this.name = 'LifecycleError';
    this.phase = options.phase;
    this.exitCode = options.exitCode;
    this.buildpack = options.buildpack;
    this.output = options.output;
  }
}

/** The exit code a phase should end with for any thrown value: a LifecycleError's own, else the phase's generic one. */
export function exitCodeFor(phase: Phase, e: unknown): number {
  if (e instanceof LifecycleError) return e.exitCode;
  return phaseErrorCode(phase);
}
