import type { TargetContext } from '../oci/open-target.js';
import { VERSION } from './version.js';

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

/** The part of the context that opening an image target needs. */
export function targetContext(ctx: CliContext): TargetContext {
  return { env: ctx.env, cwd: ctx.cwd, userAgent: `cairn/${VERSION}` };
}
