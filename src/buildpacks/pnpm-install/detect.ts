/**
 * cairn/pnpm-install detect: applies to a pnpm project: package.json `packageManager` naming pnpm, or a
 * pnpm-lock.yaml without an npm lockfile and without `packageManager` naming another tool (a yarn.lock
 * beside it goes to cairn/yarn-install, which comes first in the order). Provides `node_modules`;
 * requires `node` (at build and launch) and `node_modules`.
 */
import { join } from 'node:path';
import { type DetectContext, type DetectResult, entryKind, readJsonIfExists } from '../sdk/index.js';

export async function detect(ctx: DetectContext): Promise<DetectResult> {
  const pkg = await readJsonIfExists<{ packageManager?: unknown }>(join(ctx.appDir, 'package.json'), 'package.json');
  if (!pkg) return { pass: false, reason: 'no package.json' };
  const has = async (f: string) => (await entryKind(join(ctx.appDir, f))) !== undefined;
  const manager = typeof pkg.packageManager === 'string' ? pkg.packageManager.split('@')[0] : undefined;
  const pass = manager !== undefined
    ? manager === 'pnpm'
    : (await has('pnpm-lock.yaml')) && !(await has('package-lock.json')) && !(await has('npm-shrinkwrap.json'));
  if (!pass) return { pass: false, reason: manager ? `package.json names ${manager} as its package manager` : 'no pnpm-lock.yaml (or a package-lock.json beside it)' };
  return {
    pass: true,
    plan: {
      provides: [{ name: 'node_modules' }],
      requires: [{ name: 'node', metadata: { build: true, launch: true } }, { name: 'node_modules' }],
    },
  };
}
