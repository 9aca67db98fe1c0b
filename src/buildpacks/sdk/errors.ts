/**
 * The one error type a buildpack throws for an expected failure: what failed (`message`), why (`output`, e.g.
 * the failing command's last lines) and what to do (`hint`). The SDK prints it and exits non-zero; anything
 * else thrown is reported as an internal error of the buildpack.
 */
export class BuildpackError extends Error {
  readonly hint: string | undefined;
  readonly output: string | undefined;

  constructor(message: string, opts: { hint?: string; output?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BuildpackError';
    this.hint = opts.hint;
    this.output = opts.output;
  }
}

/** The text printed for a failure: the message, the output indented, then the hint. */
export function formatFailure(e: unknown): string {
  if (e instanceof BuildpackError) {
    const lines = [`ERROR: ${e.message}`];
    if (e.output?.trim()) lines.push('', ...e.output.trimEnd().split('\n').map((l) => `    ${l}`), '');
    if (e.hint) lines.push(`HINT: ${e.hint}`);
    return `${lines.join('\n')}\n`;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return `ERROR: internal error in the buildpack: ${err.stack ?? err.message}\nHINT: this is a bug in the buildpack; please report it with the output above\n`;
}

/** The message of any thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
