/**
 * cairn/yarn-install build. yarn itself (version.ts) is in the build-only layer `yarn` (from the registry,
 * integrity checked; never in the image), or is the release the app vendors (run with node; removed from
 * the app after the build, so the image holds no yarn either way). `yarn-cache` (cache only) holds yarn's
 * cache (yarn 1 `YARN_CACHE_FOLDER`, yarn 2+ `YARN_GLOBAL_FOLDER`).
 *
 * Yarn 1, and yarn 2+ with `nodeLinker: node-modules`: layers like cairn/npm-install's.
 * - `build-modules` (build, cache): every dependency, installed in a skeleton of the app (sdk
 *   node-project.ts): `yarn install --frozen-lockfile --production=false` / `yarn install --immutable`.
 *   The build scripts run against it.
 * - `launch-modules` (launch): a copy pruned of devDependencies (yarn 1: `yarn install --production
 *   --frozen-lockfile --ignore-scripts --prefer-offline` over the copy, so addons built above stay built;
 *   yarn 4: `yarn workspaces focus --all --production`). The app's `node_modules` ends as a symlink into it.
 * Key of both: sha256 of package.json, yarn.lock, .yarnrc(.yml), the Node.js and yarn versions and the
 * architecture. Same key: nothing is installed.
 *
 * Yarn 2+ Plug'n'Play (the default `nodeLinker`) installs in the app (`yarn install --immutable`): the
 * packages stay zipped in the project's cache folder, which ships with the app (committed for
 * zero-installs, so nothing is fetched). After the build scripts, `yarn workspaces focus --all
 * --production` rewrites .pnp.cjs without the devDependencies, whose zips are then removed. The launch
 * layer `pnp` puts `--require <app>/.pnp.cjs` (and the ESM loader when yarn wrote one) first in
 * NODE_OPTIONS, so every node process of the image resolves through PnP; node-start needs no change.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import semver from 'semver';
import {
  type BuildContext, type BuildResult, BuildpackError, cacheKey, copyTree, DEFAULT_NPM_REGISTRY, type Env, entryKind, installRelease, type Layer, linkNodeModules,
  makeSkeleton, nodeToolchain, type PackageJson, type PackageRelease, parsePackageManager, readJsonIfExists, readLayerMetadata, readTextIfExists,
  registryPackage, resolveRelease, runTool, scriptsToRun, type Toolchain, writeModulesSboms,
} from '../sdk/index.js';
import { BERRY_PACKAGE, CLASSIC_PACKAGE, type YarnLine, type YarnRequest, yarnRequest, yarnrcValue, yarnrcYmlValue } from './version.js';
import { yarnFailure } from './yarn-errors.js';

const LAYOUT = '1';

interface Yarn {
  /** The yarn program (a .js/.cjs file), run with node. */
  js: string;
  version: string;
  line: YarnLine;
  /** The vendored release, relative to the app (removed after the build). */
  vendored?: string;
}

/** A vendored release path from an rc file, when it names a file in the app. */
async function vendoredPath(appDir: string, p: string | undefined): Promise<string | undefined> {
  if (!p) return undefined;
  return (await entryKind(join(appDir, p))) === 'file' ? p : undefined;
}

async function yarnTool(ctx: BuildContext, req: YarnRequest, tc: Toolchain, registry: string): Promise<Yarn> {
  if (req.kind === 'vendored') {
    const js = join(ctx.appDir, req.path);
    let version = req.version;
    if (!version) {
      const r = await runTool(ctx.log, `node ${req.path} --version`, 'node', [js, '--version'], ctx.appDir, ctx.env);
      version = semver.valid(r.output.trim().split('\n').pop()?.trim() ?? '') ?? undefined;
      if (r.code !== 0 || !version) throw new BuildpackError(`the vendored yarn ${req.path} (${req.source}) does not run`, { output: r.output, hint: 'commit a working yarn release, or remove the setting so the buildpack installs yarn' });
    }
    ctx.log.info(`yarn ${version} vendored by the app (${req.source}): nothing to download`);
    return { js, version, line: semver.major(version) >= 2 ? 'berry' : 'classic', vendored: req.path };
  }
  // The version chosen for this request and Node.js version last time (kept in the layer), else a fresh choice.
  const request = `${req.line} ${req.range}`;
  const prev = await readLayerMetadata(ctx.layersDir, 'yarn');
  const pkg = registryPackage(registry, req.line === 'classic' ? CLASSIC_PACKAGE : BERRY_PACKAGE, ctx.env);
  const choose = () => resolveRelease(pkg, req.range, tc.node, `yarn ${req.range} (${req.source})`, (v) => (req.line === 'classic') === (semver.major(v) < 2));
  let release: PackageRelease | undefined;
  let version: string;
  if (prev && prev.request === request && prev.node === tc.node && typeof prev.version === 'string') version = prev.version;
  else version = (release = await choose()).version;
  ctx.log.info(`yarn ${version} (${req.source}), at build time only`);
  const layer = await ctx.layer('yarn', { types: { build: true, cache: true }, key: `yarn ${version} layout ${LAYOUT}`, metadata: { request, node: tc.node, version } });
  if (!layer.reused) {
    const r = release ?? (await choose());
    ctx.log.info(`Downloading ${r.tarball}`);
    await installRelease(r, join(layer.path, 'package'), { env: ctx.env, staging: join(ctx.layersDir, '.staging-yarn'), what: `yarn ${r.version}` });
    ctx.log.detail(`${r.integrity.split('-')[0]} verified`);
  }
  return { js: join(layer.path, 'package', 'bin', 'yarn.js'), version, line: req.line };
}

async function yarn(ctx: BuildContext, y: Yarn, args: string[], cwd: string, env: Env): Promise<void> {
  const shown = `yarn ${args.join(' ')}`;
  const started = ctx.now();
  const r = await runTool(ctx.log, shown, 'node', [y.js, ...args], cwd, env);
  if (r.code !== 0) throw yarnFailure(shown, r.code, r.output);
  ctx.log.detail(`done in ${((ctx.now() - started) / 1000).toFixed(1)} s`);
}

async function runScripts(ctx: BuildContext, y: Yarn, scripts: string[], env: Env): Promise<void> {
  for (const s of scripts) {
    const r = await runTool(ctx.log, `yarn run ${s}`, 'node', [y.js, 'run', s], ctx.appDir, env);
    if (r.code !== 0) {
      throw new BuildpackError(`the "${s}" script of package.json failed (exit code ${r.code})`, { output: r.output.trimEnd().split('\n').slice(-60).join('\n'), hint: `fix the "${s}" script (its output is above); run \`yarn run ${s}\` locally to reproduce` });
    }
  }
}

/** How one yarn line installs in a skeleton and prunes a copy of it to production dependencies. */
interface ModulesSteps {
  env: Env;
  install: string[];
  /** Run in the launch copy; undefined when this yarn cannot prune (the copy keeps everything). */
  prune: string[] | undefined;
}

/**
 * The two module layers (yarn 1, and yarn 2+ with `nodeLinker: node-modules`): install in a skeleton of
 * the app in `build-modules`, run the build scripts against it, prune a copy in `launch-modules`.
 */
async function moduleLayers(ctx: BuildContext, y: Yarn, tc: Toolchain, scripts: string[], steps: ModulesSteps): Promise<void> {
  const { log } = ctx;
  const text = (f: string) => readTextIfExists(join(ctx.appDir, f));
  const key = cacheKey({
    manifest: await text('package.json'), lockfile: await text('yarn.lock'), yarnrc: await text('.yarnrc'), yarnrcYml: await text('.yarnrc.yml'),
    node: tc.node, yarn: y.version, arch: tc.arch, layout: LAYOUT,
  });
  const buildModules = await ctx.layer('build-modules', { types: { build: true, cache: true }, key });
  const launchModules = await ctx.layer('launch-modules', { types: { launch: true }, key });
  const project = (l: Layer) => join(l.path, 'project');
  if (buildModules.reused) {
    log.info(`Reusing node_modules: package.json, yarn.lock, yarn settings, Node.js and yarn unchanged (${key.slice(0, 19)}…)`);
  } else {
    await makeSkeleton(ctx.appDir, project(buildModules));
    await yarn(ctx, y, steps.install, project(buildModules), steps.env);
    await buildModules.prepend('NODE_PATH', join(project(buildModules), 'node_modules'), ':', { scope: 'build' });
  }
  if (launchModules.reused) {
    log.info('Reusing the launch node_modules layer of the previous image');
  } else {
    log.info('Preparing the launch node_modules without devDependencies');
    await copyTree(project(buildModules), project(launchModules));
    if (steps.prune) await yarn(ctx, y, steps.prune, project(launchModules), steps.env);
  }
  await linkNodeModules(ctx.appDir, join(project(buildModules), 'node_modules'));
  await runScripts(ctx, y, scripts, steps.env);
  await linkNodeModules(ctx.appDir, join(project(launchModules), 'node_modules'));
  await writeModulesSboms(ctx, buildModules, launchModules, join('project', 'node_modules'));
}

async function classic(ctx: BuildContext, y: Yarn, tc: Toolchain, scripts: string[], registry: string): Promise<void> {
  const lockfile = await entryKind(join(ctx.appDir, 'yarn.lock'));
  const cache = await ctx.layer('yarn-cache', { types: { cache: true }, key: `yarn-cache classic layout ${LAYOUT}` });
  const env: Env = { ...ctx.env, YARN_CACHE_FOLDER: cache.path, YARN_REGISTRY: registry, npm_config_registry: registry, YARN_DISABLE_SELF_UPDATE_CHECK: 'true', YARN_IGNORE_PATH: 'true' };
  const frozen = lockfile ? ['--frozen-lockfile'] : [];
  if (!lockfile) ctx.log.info('no yarn.lock: installing the newest versions package.json allows (commit a lockfile for repeatable builds)');
  await moduleLayers(ctx, y, tc, scripts, {
    env,
    install: ['install', ...frozen, '--production=false', '--non-interactive'],
    // Over the copy: yarn removes the devDependencies and leaves what install scripts built above in place.
    prune: ['install', '--production', ...frozen, '--ignore-scripts', '--prefer-offline', '--non-interactive'],
  });
}

/** Removes the zips of `cacheDir` that `.pnp.cjs` no longer names (the devDependencies after focus). */
async function dropUnusedZips(appDir: string, cacheDir: string): Promise<number> {
  const pnp = (await readTextIfExists(join(appDir, '.pnp.cjs'))) ?? '';
  let names: string[];
  try {
    names = await readdir(join(appDir, cacheDir));
  } catch {
    return 0;
  }
  let n = 0;
  for (const z of names) {
    if (z.endsWith('.zip') && !pnp.includes(z)) {
      await rm(join(appDir, cacheDir, z));
      n++;
    }
  }
  return n;
}

/** `yarn workspaces focus --all --production` is built into yarn 4; yarn 2 and 3 need a plugin. */
function focusSupported(y: Yarn): boolean {
  return semver.major(y.version) >= 4;
}

const FOCUS = ['workspaces', 'focus', '--all', '--production'];

async function berry(ctx: BuildContext, y: Yarn, tc: Toolchain, scripts: string[], registry: string): Promise<void> {
  const { log } = ctx;
  const yml = (await readTextIfExists(join(ctx.appDir, '.yarnrc.yml'))) ?? '';
  const linker = ctx.config('YARN_NODE_LINKER') ?? yarnrcYmlValue(yml, 'nodeLinker') ?? 'pnp';
  const pnp = linker === 'pnp';
  const cache = await ctx.layer('yarn-cache', { types: { cache: true }, key: `yarn-cache berry layout ${LAYOUT}` });
  const server = ctx.config('YARN_NPM_REGISTRY_SERVER') ?? registry;
  // yarn 2+ refuses plain-http registries unless whitelisted: the registry the build was pointed at is.
  const httpHost = server.startsWith('http://') ? new URL(server).hostname : undefined;
  const whitelist = [ctx.config('YARN_UNSAFE_HTTP_WHITELIST'), httpHost].filter(Boolean).join(',');
  const env: Env = {
    ...ctx.env,
    YARN_GLOBAL_FOLDER: cache.path,
    YARN_NPM_REGISTRY_SERVER: server,
    ...(whitelist ? { YARN_UNSAFE_HTTP_WHITELIST: whitelist } : {}),
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_PROGRESS_BARS: 'false',
    // PnP loads packages from the project's cache folder at run time: it must be in the app, not global.
    ...(pnp ? { YARN_ENABLE_GLOBAL_CACHE: 'false' } : {}),
    ...(y.vendored ? {} : { YARN_IGNORE_PATH: '1' }),
  };
  const lockfile = await entryKind(join(ctx.appDir, 'yarn.lock'));
  const immutable = lockfile ? ['--immutable'] : [];
  log.info(`nodeLinker ${linker}${pnp ? ' (Plug\'n\'Play)' : ''}`);
  if (!lockfile) log.info('no yarn.lock: installing the newest versions package.json allows (commit a lockfile for repeatable builds)');
  if (!focusSupported(y)) log.warn(`yarn ${y.version} cannot leave devDependencies out (\`yarn workspaces focus\` needs yarn 4, or the workspace-tools plugin before it): they stay in the image`);
  if (!pnp) {
    await moduleLayers(ctx, y, tc, scripts, { env, install: ['install', ...immutable], prune: focusSupported(y) ? FOCUS : undefined });
    await rm(join(ctx.appDir, '.yarn', 'install-state.gz'), { force: true });
    return;
  }
  await yarn(ctx, y, ['install', ...immutable], ctx.appDir, env);
  await runScripts(ctx, y, scripts, env);
  if (focusSupported(y)) {
    await yarn(ctx, y, FOCUS, ctx.appDir, env);
    const dropped = await dropUnusedZips(ctx.appDir, yarnrcYmlValue(yml, 'cacheFolder') ?? '.yarn/cache');
    if (dropped) log.detail(`${dropped} devDependency archive(s) left out of the image`);
  }
  const loader = (await entryKind(join(ctx.appDir, '.pnp.loader.mjs'))) === 'file';
  const opts = `--require ${join(ctx.appDir, '.pnp.cjs')}${loader ? ` --experimental-loader file://${join(ctx.appDir, '.pnp.loader.mjs')}` : ''}`;
  const layer = await ctx.layer('pnp', { types: { launch: true }, key: `pnp ${opts} layout ${LAYOUT}` });
  if (!layer.reused) await layer.prepend('NODE_OPTIONS', opts, ' ', { scope: 'launch' });
  log.info(`At launch: NODE_OPTIONS starts with ${opts}`);
  await rm(join(ctx.appDir, '.yarn', 'install-state.gz'), { force: true });
}

export async function build(ctx: BuildContext): Promise<BuildResult> {
  const pkg = await readJsonIfExists<PackageJson>(join(ctx.appDir, 'package.json'), 'package.json');
  if (!pkg) throw new BuildpackError('there is no package.json in the app', { hint: 'cairn/yarn-install builds yarn projects: add a package.json' });
  const yml = await readTextIfExists(join(ctx.appDir, '.yarnrc.yml'));
  const rc = await readTextIfExists(join(ctx.appDir, '.yarnrc'));
  const berryYarnPath = await vendoredPath(ctx.appDir, yml === undefined ? undefined : yarnrcYmlValue(yml, 'yarnPath'));
  const classicYarnPath = await vendoredPath(ctx.appDir, rc === undefined ? undefined : yarnrcValue(rc, 'yarn-path'));
  const pm = parsePackageManager(pkg.packageManager);
  const req = yarnRequest({
    ...(pm ? { packageManager: pm } : {}),
    ...(pkg.engines?.yarn !== undefined ? { enginesYarn: pkg.engines.yarn } : {}),
    ...(berryYarnPath ? { berryYarnPath } : {}),
    ...(classicYarnPath ? { classicYarnPath } : {}),
    lockfile: await readTextIfExists(join(ctx.appDir, 'yarn.lock')),
  });
  const scripts = scriptsToRun(pkg.scripts, ctx.config('BP_NODE_RUN_SCRIPTS'));
  const tc = await nodeToolchain(ctx.appDir, ctx.env, ctx.target.arch, 'cairn/yarn-install');
  const registry = `${(ctx.config('npm_config_registry') ?? DEFAULT_NPM_REGISTRY).replace(/\/+$/, '')}/`;
  ctx.log.info(`Node.js ${tc.node} (${tc.arch})`);
  const y = await yarnTool(ctx, req, tc, registry);
  if (y.line === 'classic') await classic(ctx, y, tc, scripts, registry);
  else await berry(ctx, y, tc, scripts, registry);
  if (y.vendored) {
    await rm(join(ctx.appDir, y.vendored), { force: true });
    await rmdir(dirname(join(ctx.appDir, y.vendored))).catch(() => undefined); // only when nothing else is there
    ctx.log.info(`Left ${y.vendored} (yarn itself) out of the image`);
  }
  return {};
}
