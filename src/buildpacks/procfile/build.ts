/**
 * cairn/procfile build: one process per Procfile line. A command without shell syntax runs directly (split
 * on blanks); one with shell syntax (`$PORT`, quotes, `&&`, …) runs as `bash -c <command>`, which needs bash
 * in the run image (the base stack has it; the tiny stack has no shell). `web` is the default process;
 * without `web`, the first line is.
 */
import { join } from 'node:path';
import { type BuildContext, type BuildResult, commandFor, parseProcfile, readTextIfExists } from '../sdk/index.js';

export async function build(ctx: BuildContext): Promise<BuildResult> {
  const entries = parseProcfile((await readTextIfExists(join(ctx.appDir, 'Procfile'))) ?? '');
  const defaultType = entries.some((e) => e.type === 'web') ? 'web' : entries[0]?.type;
  const processes = entries.map((e) => {
    const c = commandFor(e.command);
    ctx.log.info(`${e.type}: ${JSON.stringify(c.command)}${c.shell ? ' (shell syntax: runs through bash, which the run image must have)' : ''}`);
    return { type: e.type, command: c.command, default: e.type === defaultType };
  });
  return { processes };
}
