/**
 * Detection shared by the buildpacks that install node_modules (npm-install, yarn-install, pnpm-install): the
 * build plan they all give, and the rule that gives a project to exactly one of them — `packageManager` in
 * package.json decides; without it, an npm lockfile means npm, else `yarn.lock` means yarn, else
 * `pnpm-lock.yaml` means pnpm.
 */
import { join } from 'node:path';
import type { DetectContext } from './context.js';
import { entryKind, readJsonIfExists } from './files.js';
import type { BuildPlan, DetectResult } from './run.js';

/** Provides `node_modules`; requires `node` (at build and launch) and `node_modules`. */
export const MODULES_PLAN: BuildPlan = {
  provides: [{ name: 'node_modules' }],
  requires: [{ name: 'node', metadata: { build: true, launch: true } }, { name: 'node_modules' }],
};

/** yarn-install's and pnpm-install's detect: `packageManager` names `tool`, or none is named and `lockfile` is there without an npm lockfile. */
export async function detectLockfileTool(ctx: DetectContext, tool: 'yarn' | 'pnpm', lockfile: string): Promise<DetectResult> {
  const pkg = await readJsonIfExists<{ packageManager?: unknown }>(join(ctx.appDir, 'package.json'), 'package.json');
  if (!pkg) return { pass: false, reason: 'no package.json' };
  const has = async (f: string) => (await entryKind(join(ctx.appDir, f))) !== undefined;
  const manager = typeof pkg.packageManager === 'string' ? pkg.packageManager.split('@')[0] : undefined;
  const pass = manager !== undefined
    ? manager === tool
    : (await has(lockfile)) && !(await has('package-lock.json')) && !(await has('npm-shrinkwrap.json'));
  if (!pass) return { pass: false, reason: manager ? `package.json names ${manager} as its package manager` : `no ${lockfile} (or a package-lock.json beside it)` };
  return { pass: true, plan: MODULES_PLAN };
}
