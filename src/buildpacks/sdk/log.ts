/**
 * Build output. The lifecycle keeps a buildpack's stdout and stderr and shows them to the user, so lines are
 * plain text: a title per buildpack, indented steps, warnings marked as such.
 */
export interface Logger {
  /** `<name> <version>`, first line of a buildpack's output. */
  title(text: string): void;
  /** A step: `  Resolving Node.js version`. */
  info(text: string): void;
  /** A detail under a step: `    16.20.2 from package.json`. */
  detail(text: string): void;
  warn(text: string): void;
  /** Raw text (a child process's output), written as it is. */
  raw(text: string): void;
}

export function createLogger(out: (text: string) => void, err: (text: string) => void = out): Logger {
  return {
    title: (t) => out(`\n${t}\n`),
    info: (t) => out(`  ${t}\n`),
    detail: (t) => out(`    ${t}\n`),
    warn: (t) => err(`  WARNING: ${t}\n`),
    raw: (t) => out(t),
  };
}

/** A logger that keeps what it is given, for work running beside other output: `release` writes it all to `to`, in order. */
export function holdLogs(): { log: Logger; release(to: Logger): void } {
  const held: ((to: Logger) => void)[] = [];
  return {
    log: {
      title: (t) => held.push((to) => to.title(t)),
      info: (t) => held.push((to) => to.info(t)),
      detail: (t) => held.push((to) => to.detail(t)),
      warn: (t) => held.push((to) => to.warn(t)),
      raw: (t) => held.push((to) => to.raw(t)),
    },
    release(to) {
      for (const write of held.splice(0)) write(to);
    },
  };
}
