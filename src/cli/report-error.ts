/**
 * How the CLI reports a failure: one line `error: …`, one line `hint: …` when there is one, the cause
 * chain and stack only with --verbose; and the exit status for it.
 */
import { CommanderError } from 'commander';
import { CairnError, type ErrorCode } from '../oci/errors.js';

/** Exit status for usage errors (bad flag, bad reference), as distinct from failed operations (1). */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(['INVALID_REFERENCE', 'UNKNOWN_TRANSPORT', 'INVALID_ARGUMENT']);

export function exitCodeFor(e: unknown): number {
  if (e instanceof CairnError) return USAGE_CODES.has(e.code) ? EXIT_USAGE : EXIT_FAILURE;
  return EXIT_FAILURE;
}

export function formatError(e: unknown, verbose: boolean): string {
  const lines: string[] = [];
  if (e instanceof CairnError) {
    lines.push(`error: ${e.message}`);
    if (e.hint) lines.push(`hint: ${e.hint}`);
  } else if (e instanceof CommanderError) {
    lines.push(e.message.startsWith('error:') ? e.message : `error: ${e.message}`);
  } else {
    lines.push(`error: ${e instanceof Error ? e.message : String(e)}`);
    lines.push('hint: this is a bug in cairn; run again with --verbose and report the output');
  }
  if (verbose) {
    if (e instanceof CairnError) lines.push(`code: ${e.code}`);
    let cause: unknown = e;
    while (cause instanceof Error) {
      if (cause.stack) lines.push(cause.stack);
      cause = cause.cause;
      if (cause !== undefined) lines.push('caused by:');
    }
    if (cause !== undefined && !(cause instanceof Error)) lines.push(String(cause));
  }
  return lines.join('\n') + '\n';
}
