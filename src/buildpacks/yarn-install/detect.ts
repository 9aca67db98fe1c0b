/**
 * cairn/yarn-install detect: applies to a yarn project: package.json `packageManager` naming yarn, or a
 * yarn.lock without an npm lockfile (package-lock.json, npm-shrinkwrap.json) and without `packageManager`
 * naming another tool. The same rule, inverted, keeps cairn/npm-install and cairn/pnpm-install away.
 * Provides `node_modules`; requires `node` (at build and launch) and `node_modules`.
 */
import { join } from 'node:path';
import { type DetectContext, type DetectResult, entryKind, readJsonIfExists } from '../sdk/index.js';

export async function detect(ctx: DetectContext): Promise<DetectResult> {
  const pkg = await readJsonIfExists<{ packageManager?: unknown }>(join(ctx.appDir, 'package.json'), 'package.json');
  if (!pkg) return { pass: false, reason: 'no package.json' };
  const has = async (f: string) => (await entryKind(join(ctx.appDir, f))) !== undefined;
  const manager = typeof pkg.packageManager === 'string' ? pkg.packageManager.split('@')[0] : undefined;
  const pass = manager !== undefined
    ? manager === 'yarn'
    : (await has('yarn.lock')) && !(await has('package-lock.json')) && !(await has('npm-shrinkwrap.json'));
  if (!pass) return { pass: false, reason: manager ? `package.json names ${manager} as its package manager` : 'no yarn.lock (or a package-lock.json beside it)' };
  return {
    pass: true,
    plan: {
      provides: [{ name: 'node_modules' }],
      requires: [{ name: 'node', metadata: { build: true, launch: true } }, { name: 'node_modules' }],
    },
  };
}
