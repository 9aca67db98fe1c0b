/** cairn/procfile detect: applies when the app has a Procfile with at least one process. */
import { join } from 'node:path';
import { type DetectContext, type DetectResult, parseProcfile, readTextIfExists } from '../sdk/index.js';

export async function detect(ctx: DetectContext): Promise<DetectResult> {
  const text = await readTextIfExists(join(ctx.appDir, 'Procfile'));
  if (text === undefined) return { pass: false, reason: 'no Procfile' };
  if (parseProcfile(text).length === 0) return { pass: false, reason: 'the Procfile lists no process' };
  return { pass: true };
}
