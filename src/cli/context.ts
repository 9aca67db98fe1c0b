/**
 * What the CLI takes from the world. `bin/cairn.js` passes the real process values; tests pass their own.
 * This is the only place cairn reads the environment, the working directory and the clock.
 */
export interface CliContext {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  now: () => Date;
}
