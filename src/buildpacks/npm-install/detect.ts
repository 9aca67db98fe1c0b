/**
 * cairn/npm-install detect: applies to an app with a package.json that is not a yarn or pnpm project
 * (yarn.lock or pnpm-lock.yaml without package-lock.json, or `packageManager` naming yarn or pnpm).
 * Provides `node_modules`; requires `node` (at build and launch) and `node_modules`.
 */
import { join } from 'node:path';
import { type DetectContext, type DetectResult, entryKind, MODULES_PLAN, readJsonIfExists } from '../sdk/index.js';

export async function detect(ctx: DetectContext): Promise<DetectResult> {
  const pkg = await readJsonIfExists<{ packageManager?: unknown }>(join(ctx.appDir, 'package.json'), 'package.json');
  if (!pkg) return { pass: false, reason: 'no package.json' };
  const has = async (f: string) => (await entryKind(join(ctx.appDir, f))) !== undefined;
  const npmLock = (await has('package-lock.json')) || (await has('npm-shrinkwrap.json'));
  if (typeof pkg.packageManager === 'string' && /^(yarn|pnpm)@/.test(pkg.packageManager)) return { pass: false, reason: `package.json names ${pkg.packageManager.split('@')[0]} as its package manager` };
  if (!npmLock && (await has('yarn.lock'))) return { pass: false, reason: 'yarn.lock without package-lock.json: a yarn project' };
  if (!npmLock && (await has('pnpm-lock.yaml'))) return { pass: false, reason: 'pnpm-lock.yaml without package-lock.json: a pnpm project' };
  return { pass: true, plan: MODULES_PLAN };
}
