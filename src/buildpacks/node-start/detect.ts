/**
 * cairn/node-start detect: applies to an app with a package.json or a start file (server.js, app.js,
 * index.js and their .cjs/.mjs forms). Requires `node` at launch.
 */
import { join } from 'node:path';
import { type DetectContext, type DetectResult, entryKind } from '../sdk/index.js';
import { CANDIDATES } from './start-command.js';

export async function detect(ctx: DetectContext): Promise<DetectResult> {
  for (const f of ['package.json', ...CANDIDATES]) {
    if ((await entryKind(join(ctx.appDir, f))) === 'file') {
      return { pass: true, plan: { provides: [], requires: [{ name: 'node', metadata: { launch: true } }] } };
    }
  }
  return { pass: false, reason: `no package.json and none of ${CANDIDATES.join(', ')}` };
}
