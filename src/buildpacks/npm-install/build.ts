/**
 * cairn/npm-install build. Layers:
 * - `build-modules` (build, cache): every dependency, devDependencies included: `npm ci` with a lockfile,
 *   `npm install` without, run in a skeleton of the project (project.ts). The build scripts run against it.
 * - `launch-modules` (launch): a copy pruned of devDependencies (`npm prune --omit=dev`, while the build
 *   scripts run: the copy is taken before they start, so nothing they write reaches it). The app's
 *   `node_modules` ends as a symlink into it (`<layer>/project/node_modules`): the app layer holds no dependencies, and the link survives a
 *   rebase (the layer path does not change).
 * - `npm-cache` (cache only): npm's cache (`npm_config_cache`), so a changed lockfile installs from it.
 * Key of both module layers: sha256 of every package.json of the project, the lockfile, the Node.js and
 * npm versions, the architecture and the selected workspace. Same key: nothing is installed; the build
 * layer comes from the cache and the launch layer stays in the previous image (no folder).
 *
 * A vendored `node_modules` (a real folder in the app) is rebuilt in place (`npm rebuild`) and left there.
 * Root lifecycle scripts (`postinstall`, `prepare`) run only when the dependencies are installed, in the
 * skeleton: files they write are not part of the app. Put build steps in `build` (or BP_NODE_RUN_SCRIPTS).
 */
import { realpath, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type BuildContext, type BuildResult, BuildpackError, copyTree, cycloneDx, type Env, entryKind, exec, holdLogs, type Layer,
  nodeToolchain, readJsonIfExists, type SbomComponent, sbomCreated, spdx,
} from '../sdk/index.js';
import { LAYOUT, modulesKey, type Tools } from './cache-key.js';
import { components, lockedPackages } from './lockfile-sbom.js';
import { npmFailure, tail } from './npm-errors.js';
import {
  linkNodeModules, makeSkeleton, nodeModulesDirs, type PackageJson, type Project, readProject, removeEmptyScopes, selectWorkspace, workspaceClosure,
} from './project.js';
import { devPackageFilter, hasDevPackages } from './prune.js';
import { scriptsToRun } from './scripts.js';


/**
 * npm's version from the package.json beside the `npm` on PATH (npm's own bin/npm-cli.js, through its
 * symlink), without starting npm (~0.15 s); undefined when npm is not laid out that way.
 */
async function npmVersionOnPath(env: Env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    let cli: string;
    try {
      cli = await realpath(join(dir, 'npm'));
    } catch {
      continue;
    }
    const pkg = await readJsonIfExists<{ name?: unknown; version?: unknown }>(join(dirname(cli), '..', 'package.json')).catch(() => undefined);
    return pkg?.name === 'npm' && typeof pkg.version === 'string' && /^\d+\.\d+\.\d+/.test(pkg.version) ? pkg.version : undefined;
  }
  return undefined;
}

/** Node.js and npm on PATH: nodeToolchain, and npm's version from its package.json (else `npm --version`). */
async function toolVersions(ctx: BuildContext): Promise<Tools> {
  const who = 'cairn/npm-install';
  const { node, arch } = await nodeToolchain(ctx.appDir, ctx.env, ctx.target.arch, who);
  const fromPackage = await npmVersionOnPath(ctx.env);
  if (fromPackage) return { node, arch, npm: fromPackage };
  const m = await exec('npm', ['--version'], { cwd: ctx.appDir, env: ctx.env }).catch(() => undefined);
  if (!m || m.code !== 0) {
    throw new BuildpackError('npm is not on PATH at build time', { output: m?.output, hint: `${who} needs a buildpack that installs Node.js and npm before it (cairn/node-engine)` });
  }
  return { node, arch, npm: m.output.trim().split('\n').pop()!.trim() };
}

/** The environment npm runs with: the build env plus its cache and quiet defaults. */
function npmEnv(env: Env, cacheDir: string): Env {
  return {
    ...env,
    npm_config_cache: cacheDir,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_progress: 'false',
    npm_config_logs_max: '0',
  };
}

async function npm(ctx: Pick<BuildContext, 'log' | 'now'>, args: string[], cwd: string, env: Env, lockName: string | undefined): Promise<void> {
  const shown = `npm ${args.join(' ')}`;
  ctx.log.info(`Running \`${shown}\``);
  const started = ctx.now();
  const r = await exec('npm', args, { cwd, env, onOutput: (t) => ctx.log.raw(t.replace(/^(?=.)/gm, '      ')) });
  if (r.code !== 0) throw npmFailure(shown, r.code, r.output, lockName);
  ctx.log.detail(`done in ${((ctx.now() - started) / 1000).toFixed(1)} s`);
}

async function runScripts(ctx: BuildContext, scripts: string[], workspace: string | undefined, env: Env): Promise<void> {
  for (const s of scripts) {
    const args = ['run', s, ...(workspace ? [`--workspace=${workspace}`] : [])];
    ctx.log.info(`Running \`npm ${args.join(' ')}\``);
    const r = await exec('npm', args, { cwd: ctx.appDir, env, onOutput: (t) => ctx.log.raw(t.replace(/^(?=.)/gm, '      ')) });
    if (r.code !== 0) {
      throw new BuildpackError(`the "${s}" script of ${workspace ? `${workspace}/` : ''}package.json failed (exit code ${r.code})`, {
        output: tail(r.output, 60),
        hint: `fix the "${s}" script (its output is above); run \`npm run ${s}\` locally to reproduce`,
      });
    }
  }
}

async function writeSboms(ctx: BuildContext, layer: Layer, list: SbomComponent[]): Promise<void> {
  const subject = { name: `${ctx.buildpack.id}:${layer.name}`, tool: { name: ctx.buildpack.id, version: ctx.buildpack.version }, created: sbomCreated(ctx.config('SOURCE_DATE_EPOCH')) };
  await layer.sbom('cdx', cycloneDx(subject, list));
  await layer.sbom('spdx', spdx(subject, list));
}

/**
 * The skeleton's folder in a module layer. Not the layer's root: there `bin/`, `lib/` and `env/` have meanings
 * for the lifecycle (PATH, LD_LIBRARY_PATH, env files), and the skeleton mirrors the app's own folders.
 */
function projectIn(layer: Layer): string {
  return join(layer.path, 'project');
}

/** What is installed in `layer`: its hidden lockfile, else the lockfile npm used. */
async function installed(layer: string, project: Project): Promise<ReturnType<typeof lockedPackages>> {
  const hidden = await readJsonIfExists(join(layer, 'node_modules', '.package-lock.json'));
  if (hidden) return lockedPackages(hidden);
  const written = await readJsonIfExists(join(layer, 'package-lock.json'));
  return lockedPackages(written ?? (project.lockfile ? JSON.parse(project.lockfile.text) : {}));
}

/** Removes the workspaces the selected one does not need: from the app, and from a layer's skeleton and links. */
async function dropUnneededWorkspaces(project: Project, keep: Set<string>, layer: string | undefined): Promise<string[]> {
  const drop = project.workspaces.filter((w) => !keep.has(w));
  for (const w of drop) {
    const pkg = await readJsonIfExists<PackageJson>(join(project.appDir, w, 'package.json'));
    await rm(join(project.appDir, w), { recursive: true, force: true });
    if (layer) {
      await rm(join(layer, w), { recursive: true, force: true });
      if (pkg?.name && (await entryKind(join(layer, 'node_modules', pkg.name))) === 'symlink') await rm(join(layer, 'node_modules', pkg.name));
    }
  }
  return drop;
}

export async function build(ctx: BuildContext): Promise<BuildResult> {
  const { log } = ctx;
  const project = await readProject(ctx.appDir);
  if (!project) throw new BuildpackError('there is no package.json in the app', { hint: 'cairn/npm-install builds npm projects: add a package.json' });
  const workspace = selectWorkspace(project, ctx.config('BP_NPM_WORKSPACE'));
  const target: PackageJson = workspace ? ((await readJsonIfExists<PackageJson>(join(ctx.appDir, workspace, 'package.json'))) ?? {}) : project.pkg;
  const scripts = scriptsToRun(target.scripts, ctx.config('BP_NODE_RUN_SCRIPTS'), workspace ? `${workspace}/package.json` : 'package.json');
  const tools = await toolVersions(ctx);
  // Not semver: this bundle leaves it out (bundle-buildpacks.mjs), and a version's first number is its major.
  const modern = Number.parseInt(tools.npm, 10) >= 7;
  if (workspace && !modern) throw new BuildpackError(`BP_NPM_WORKSPACE needs npm 7 or later; this build has npm ${tools.npm}`, { hint: 'use Node.js 16 or later, or set BP_NPM_VERSION' });
  log.info(`Node.js ${tools.node} (${tools.arch}), npm ${tools.npm}${workspace ? `, workspace ${workspace}` : ''}`);

  const cache = await ctx.layer('npm-cache', { types: { cache: true }, key: `npm-cache layout ${LAYOUT}` });
  const env = npmEnv(ctx.env, cache.path);
  const wsArgs = workspace ? [`--workspace=${workspace}`] : [];

  if (project.vendored) {
    log.info('node_modules is part of the app (vendored): rebuilding it in place');
    await npm(ctx, ['rebuild'], ctx.appDir, env, project.lockfile?.name);
    await runScripts(ctx, scripts, workspace, env);
    return {};
  }

  const key = modulesKey(project, tools, workspace);
  const buildModules = await ctx.layer('build-modules', { types: { build: true, cache: true }, key });
  const launchModules = await ctx.layer('launch-modules', { types: { launch: true }, key });

  if (buildModules.reused) {
    log.info(`Reusing node_modules: ${Object.keys(project.manifests).length > 1 ? 'package.json files' : 'package.json'}, ${project.lockfile?.name ?? 'no lockfile'}, Node.js and npm unchanged (${key.slice(0, 19)}…)`);
  } else {
    await makeSkeleton(ctx.appDir, projectIn(buildModules), project.workspaces);
    const dev = modern ? ['--include=dev'] : ['--production=false'];
    if (project.lockfile) await npm(ctx, ['ci', ...dev, ...wsArgs], projectIn(buildModules), env, project.lockfile.name);
    else {
      log.info('no package-lock.json: installing the newest versions package.json allows (commit a lockfile for repeatable builds)');
      await npm(ctx, ['install', ...dev, ...wsArgs], projectIn(buildModules), env, undefined);
    }
    buildModules.metadata['node-modules'] = await nodeModulesDirs(projectIn(buildModules), project.workspaces);
    // Later buildpacks (and their `.bin` lookups) find the full dependency set here.
    await buildModules.prepend('NODE_PATH', join(projectIn(buildModules), 'node_modules'), ':', { scope: 'build' });
  }
  const buildDirs = (buildModules.metadata['node-modules'] as string[] | undefined) ?? ['.'];

  const keep = workspace ? await workspaceClosure(project, workspace) : undefined;
  let pruned: Promise<void> | undefined;
  const held = holdLogs();
  if (launchModules.reused) {
    log.info('Reusing the launch node_modules layer of the previous image');
  } else {
    log.info('Preparing the launch node_modules without devDependencies');
    const hidden = modern && !workspace ? await readJsonIfExists(join(projectIn(buildModules), 'node_modules', '.package-lock.json')) : undefined;
    await copyTree(projectIn(buildModules), projectIn(launchModules), hidden === undefined ? undefined : devPackageFilter(hidden));
    // Pruning touches the copy only, so it runs while the build scripts do (their writes into node_modules, made
    // after the copy, never reach it); its messages are held until the scripts' output has been shown.
    pruned = (async () => {
      if (hidden && !hasDevPackages(hidden)) held.log.detail('none installed: the launch node_modules is a copy');
      else await npm({ log: held.log, now: ctx.now }, ['prune', ...(modern ? ['--omit=dev'] : ['--production']), ...wsArgs], projectIn(launchModules), env, project.lockfile?.name);
      if (keep) await dropUnneededWorkspaces(project, keep, projectIn(launchModules));
      launchModules.metadata['node-modules'] = await nodeModulesDirs(projectIn(launchModules), project.workspaces);
      await removeEmptyScopes(projectIn(launchModules), launchModules.metadata['node-modules'] as string[]);
    })();
  }

  await linkNodeModules(ctx.appDir, projectIn(buildModules), buildDirs);
  const [scriptsRun, launchPruned] = await Promise.allSettled([runScripts(ctx, scripts, workspace, env), pruned]);
  held.release(log);
  if (scriptsRun.status === 'rejected') throw scriptsRun.reason;
  if (launchPruned.status === 'rejected') throw launchPruned.reason;
  if (keep) {
    const dropped = await dropUnneededWorkspaces(project, keep, undefined);
    if (dropped.length) log.info(`Left out of the image (not needed by ${workspace}): ${dropped.join(', ')}`);
  }
  const launchDirs = (launchModules.metadata['node-modules'] as string[] | undefined) ?? ['.'];
  for (const d of buildDirs) if (!launchDirs.includes(d)) await rm(join(ctx.appDir, d, 'node_modules'), { force: true });
  await linkNodeModules(ctx.appDir, projectIn(launchModules), launchDirs);

  const pkgs = await installed(projectIn(buildModules), project);
  await writeSboms(ctx, buildModules, components(pkgs, { includeDev: true }));
  await writeSboms(ctx, launchModules, components(pkgs, { includeDev: false }));
  return {};
}
