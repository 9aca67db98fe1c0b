/**
 * cairn/yarn-install detect: applies to a yarn project: package.json `packageManager` naming yarn, or a
 * yarn.lock without an npm lockfile (package-lock.json, npm-shrinkwrap.json) and without `packageManager`
 * naming another tool. The same rule, inverted, keeps cairn/npm-install and cairn/pnpm-install away.
 * Provides `node_modules`; requires `node` (at build and launch) and `node_modules`.
 */
import { type DetectContext, type DetectResult, detectLockfileTool } from '../sdk/index.js';

export function detect(ctx: DetectContext): Promise<DetectResult> {
  return detectLockfileTool(ctx, 'yarn', 'yarn.lock');
}
