/**
 * Commands written as one line (a Procfile entry, a `scripts.start`), turned into process argv.
 *
 * A line with nothing a shell would interpret (quotes, `$`, globs, redirections, `;`, `&`, `|`, backticks,
 * `~`, `#`, leading `NAME=value` assignments…) is split on blanks and run directly: no shell is needed in the
 * run image. Anything else runs as `bash -c <line>`, which needs bash in the run image.
 */
const SHELL_SYNTAX = /[\\'"`$&|;<>(){}*?[\]~#!\n]/;
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** The argv of a line without shell syntax; undefined when a shell is needed. */
export function splitSimpleCommand(line: string): string[] | undefined {
  const words = line.trim().split(/[ \t]+/).filter(Boolean);
  if (words.length === 0 || SHELL_SYNTAX.test(line) || ASSIGNMENT.test(words[0]!)) return undefined;
  return words;
}

/** A process command for a shell line: direct when possible, else through bash. */
export function commandFor(line: string): { command: string[]; shell: boolean } {
  const argv = splitSimpleCommand(line);
  return argv ? { command: argv, shell: false } : { command: ['bash', '-c', line.trim()], shell: true };
}
