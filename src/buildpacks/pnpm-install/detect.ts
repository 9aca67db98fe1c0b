/**
 * cairn/pnpm-install detect: applies to a pnpm project: package.json `packageManager` naming pnpm, or a
 * pnpm-lock.yaml without an npm lockfile and without `packageManager` naming another tool (a yarn.lock
 * beside it goes to cairn/yarn-install, which comes first in the order). Provides `node_modules`;
 * requires `node` (at build and launch) and `node_modules`.
 */
import { type DetectContext, type DetectResult, detectLockfileTool } from '../sdk/index.js';

export function detect(ctx: DetectContext): Promise<DetectResult> {
  return detectLockfileTool(ctx, 'pnpm', 'pnpm-lock.yaml');
}
