/**
 * cairn/node-start build: the `web` process (start-command.ts), the default. With BP_NPM_WORKSPACE the
 * workspace's package.json decides and the process runs in its folder.
 *
 * `node_modules/.bin` entries are read in the app's node_modules, else in the folders of NODE_PATH (where
 * cairn/npm-install puts the build-time copy, since the launch copy may be absent at build time: it is
 * reused from the previous image).
 */
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { type BuildContext, type BuildResult, parseProcfile, readJsonIfExists, readTextIfExists } from '../sdk/index.js';
import { startCommand } from './start-command.js';

interface Pkg {
  main?: unknown;
  scripts?: Record<string, unknown>;
}

/** A node_modules folder to look in, and where the process sees the same folder. */
interface BinRoot {
  dir: string;
  appPath: string;
}

/** The Node.js script behind `.bin/<name>`, as an absolute path in the image, if it is one. */
function binScriptOf(roots: readonly BinRoot[], name: string): string | undefined {
  if (!/^[A-Za-z0-9@._-]+$/.test(name)) return undefined;
  for (const root of roots) {
    const link = join(root.dir, '.bin', name);
    let target: string;
    try {
      target = realpathSync(link);
    } catch {
      continue;
    }
    // The script's path inside node_modules through the .bin link, mapped onto the folder the process sees.
    let inside: string;
    try {
      inside = posix.normalize(posix.join('.bin', readlinkSync(link)));
    } catch {
      inside = relative(root.dir, target);
    }
    if (inside.startsWith('..') || inside.startsWith('/')) return undefined;
    try {
      const head = readFileSync(target, 'utf8').slice(0, 200);
      if (!/^#!.*\bnode\b/.test(head) && !/\.(c|m)?js$/.test(target)) return undefined;
    } catch {
      return undefined;
    }
    return posix.join(root.appPath, inside);
  }
  return undefined;
}

export async function build(ctx: BuildContext): Promise<BuildResult> {
  const { log } = ctx;
  const workspace = ctx.config('BP_NPM_WORKSPACE')?.trim().replace(/^\.\//, '').replace(/\/+$/, '') || undefined;
  const pkgDir = workspace ? join(ctx.appDir, workspace) : ctx.appDir;
  const pkg = (await readJsonIfExists<Pkg>(join(pkgDir, 'package.json'), workspace ? `${workspace}/package.json` : 'package.json')) ?? {};
  const procfile = await readTextIfExists(join(ctx.appDir, 'Procfile'));
  const web = procfile === undefined ? undefined : parseProcfile(procfile).find((e) => e.type === 'web')?.command;
  const nodePath = (ctx.env.NODE_PATH ?? '').split(':').filter(Boolean);
  const appModules = join(ctx.appDir, 'node_modules');
  const roots: BinRoot[] = [
    { dir: join(pkgDir, 'node_modules'), appPath: join(pkgDir, 'node_modules') },
    ...(workspace ? [{ dir: appModules, appPath: appModules }] : []),
    // The build-time copy of the root node_modules (the launch copy may be absent until export).
    ...nodePath.map((dir) => ({ dir, appPath: appModules })),
  ];
  const start = startCommand({
    ...(web ? { procfileWeb: web } : {}),
    ...(typeof pkg.scripts?.start === 'string' ? { startScript: pkg.scripts.start } : {}),
    ...(typeof pkg.main === 'string' ? { main: pkg.main } : {}),
    exists: (rel) => existsSync(join(pkgDir, rel)),
    binScript: (name) => binScriptOf(roots, name),
  });
  log.info(`web: ${JSON.stringify(start.command)} (from ${start.from})`);
  if (start.shell) log.warn(`the start command runs through ${start.command[0]}: the run image must have a shell (the base stack has one, the tiny stack does not)`);
  if (start.binPath) {
    const layer = await ctx.layer('start', { types: { launch: true }, key: `bin-path ${pkgDir}` });
    if (!layer.reused) await layer.prepend('PATH', join(pkgDir, 'node_modules', '.bin'), ':', { scope: 'launch', process: 'web' });
  }
  return {
    processes: [{ type: 'web', command: start.command, default: true, ...(workspace ? { workingDir: pkgDir } : {}) }],
  };
}
