/**
 * cairn/yarn-install build. yarn itself (version.ts) is in the build-only layer `yarn` (from the registry,
 * integrity checked; never in the image), or is the release the app vendors (run with node; removed from
 * the app after the build, so the image holds no yarn either way).
 *
 * Yarn 1 (classic), layers like cairn/npm-install's:
 * - `build-modules` (build, cache): `yarn install --frozen-lockfile --production=false` in a skeleton of
 *   the app (sdk node-project.ts); the build scripts run against it;
 * - `launch-modules` (launch): a copy pruned of devDependencies (`yarn install --production
 *   --frozen-lockfile --ignore-scripts --prefer-offline` over the copy, so addons built above stay built);
 *   the app's `node_modules` ends as a symlink into it;
 * - `yarn-cache` (cache only): `YARN_CACHE_FOLDER`.
 * Key of both module layers: sha256 of package.json, yarn.lock, the Node.js and yarn versions and the
 * architecture. Same key: nothing is installed.
 *
 * Yarn 2+ (berry) installs in the app (`yarn install --immutable`), with `YARN_GLOBAL_FOLDER` in the
 * `yarn-cache` layer. Plug'n'Play (the default `nodeLinker`): packages stay zipped in the project's cache
 * folder (committed for zero-installs, so nothing is fetched) and the launch layer `pnp` puts
 * `--require <app>/.pnp.cjs` (and the ESM loader when yarn wrote one) first in NODE_OPTIONS, so every node
 * process the image starts resolves through PnP. `nodeLinker: node-modules` writes node_modules into the
 * app. After the build scripts, `yarn workspaces focus --all --production` drops devDependencies (and, with
 * PnP, their zips).
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import semver from 'semver';
import {
  type BuildContext, type BuildResult, BuildpackError, cacheKey, copyTree, DEFAULT_NPM_REGISTRY, type Env, entryKind, installRelease, linkNodeModules,
  makeSkeleton, nodeToolchain, type PackageJson, parsePackageManager, pickRelease, readJsonIfExists, readLayerMetadata, readTextIfExists,
  registryPackage, runTool, scriptsToRun, type Toolchain,
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
  const request = `${req.line} ${req.range}`;
  const prev = await readLayerMetadata(ctx.layersDir, 'yarn');
  const pkg = registryPackage(registry, req.line === 'classic' ? CLASSIC_PACKAGE : BERRY_PACKAGE, ctx.env);
  let version: string;
  if (prev && prev.request === request && prev.node === tc.node && typeof prev.version === 'string') version = prev.version;
  else if (semver.valid(req.range)) version = req.range;
  else {
    const releases = (await pkg.releases()).filter((r) => (req.line === 'classic') === (semver.major(r.version) < 2));
    version = pickRelease(releases, req.range, tc.node, `yarn ${req.range} (${req.source})`).version;
  }
  if (req.line === 'classic' && semver.major(version) >= 2) throw new BuildpackError(`yarn ${version} is not a yarn 1 release`, { hint: 'internal' });
  ctx.log.info(`yarn ${version} (${req.source}), at build time only`);
  const layer = await ctx.layer('yarn', { types: { build: true, cache: true }, key: `yarn ${version} layout ${LAYOUT}`, metadata: { request, node: tc.node, version } });
  if (!layer.reused) {
    const r = await pkg.release(version).catch((e: unknown) => {
      if (e instanceof BuildpackError && /404/.test(e.message)) throw new BuildpackError(`yarn ${version} (${req.source}) is not in ${pkg.what}`, { hint: 'ask for a yarn version that exists' });
      throw e;
    });
    ctx.log.info(`Downloading ${r.tarball}`);
    await installRelease(r, join(layer.path, 'package'), { env: ctx.env, staging: join(ctx.layersDir, '.staging-yarn'), what: `yarn ${version}` });
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

async function classic(ctx: BuildContext, y: Yarn, tc: Toolchain, scripts: string[], registry: string): Promise<void> {
  const { log } = ctx;
  const manifest = (await readTextIfExists(join(ctx.appDir, 'package.json')))!;
  const lockfile = await readTextIfExists(join(ctx.appDir, 'yarn.lock'));
  const cache = await ctx.layer('yarn-cache', { types: { cache: true }, key: `yarn-cache classic layout ${LAYOUT}` });
  const env: Env = { ...ctx.env, YARN_CACHE_FOLDER: cache.path, YARN_REGISTRY: registry, npm_config_registry: registry, YARN_DISABLE_SELF_UPDATE_CHECK: 'true', YARN_IGNORE_PATH: 'true' };
  const key = cacheKey({ manifest, lockfile, node: tc.node, yarn: y.version, arch: tc.arch, layout: LAYOUT });
  const buildModules = await ctx.layer('build-modules', { types: { build: true, cache: true }, key });
  const launchModules = await ctx.layer('launch-modules', { types: { launch: true }, key });
  const frozen = lockfile === undefined ? [] : ['--frozen-lockfile'];
  if (lockfile === undefined) log.info('no yarn.lock: installing the newest versions package.json allows (commit a lockfile for repeatable builds)');
  if (buildModules.reused) {
    log.info(`Reusing node_modules: package.json, yarn.lock, Node.js and yarn unchanged (${key.slice(0, 19)}…)`);
  } else {
    await makeSkeleton(ctx.appDir, join(buildModules.path, 'project'));
    await yarn(ctx, y, ['install', ...frozen, '--production=false', '--non-interactive'], join(buildModules.path, 'project'), env);
    await buildModules.prepend('NODE_PATH', join(buildModules.path, 'project', 'node_modules'), ':', { scope: 'build' });
  }
  if (launchModules.reused) {
    log.info('Reusing the launch node_modules layer of the previous image');
  } else {
    log.info('Preparing the launch node_modules without devDependencies');
    await copyTree(join(buildModules.path, 'project'), join(launchModules.path, 'project'));
    await yarn(ctx, y, ['install', '--production', ...frozen, '--ignore-scripts', '--prefer-offline', '--non-interactive'], join(launchModules.path, 'project'), env);
  }
  await linkNodeModules(ctx.appDir, join(buildModules.path, 'project', 'node_modules'));
  await runScripts(ctx, y, scripts, env);
  await linkNodeModules(ctx.appDir, join(launchModules.path, 'project', 'node_modules'));
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

async function berry(ctx: BuildContext, y: Yarn, scripts: string[], registry: string): Promise<void> {
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
    YARN_ENABLE_GLOBAL_CACHE: pnp ? 'false' : ctx.config('YARN_ENABLE_GLOBAL_CACHE') ?? 'true',
    ...(y.vendored ? {} : { YARN_IGNORE_PATH: '1' }),
  };
  const lockfile = await entryKind(join(ctx.appDir, 'yarn.lock'));
  log.info(`nodeLinker ${linker}${pnp ? ' (Plug\'n\'Play)' : ''}`);
  if (!lockfile) log.info('no yarn.lock: installing the newest versions package.json allows (commit a lockfile for repeatable builds)');
  await yarn(ctx, y, ['install', ...(lockfile ? ['--immutable'] : [])], ctx.appDir, env);
  await runScripts(ctx, y, scripts, env);
  const focus = await runTool(log, 'yarn workspaces focus --all --production', 'node', [y.js, 'workspaces', 'focus', '--all', '--production'], ctx.appDir, env);
  if (focus.code !== 0) {
    if (semver.major(y.version) < 4) log.warn(`yarn ${y.version} cannot leave devDependencies out (\`yarn workspaces focus\` needs yarn 4 or the workspace-tools plugin): they stay in the image`);
    else throw yarnFailure('yarn workspaces focus --all --production', focus.code, focus.output);
  }
  if (pnp) {
    const dropped = await dropUnusedZips(ctx.appDir, yarnrcYmlValue(yml, 'cacheFolder') ?? '.yarn/cache');
    if (dropped) log.detail(`${dropped} devDependency archive(s) left out of the image`);
    const loader = (await entryKind(join(ctx.appDir, '.pnp.loader.mjs'))) === 'file';
    const opts = `--require ${join(ctx.appDir, '.pnp.cjs')}${loader ? ` --experimental-loader file://${join(ctx.appDir, '.pnp.loader.mjs')}` : ''}`;
    const layer = await ctx.layer('pnp', { types: { launch: true }, key: `pnp ${opts} layout ${LAYOUT}` });
    if (!layer.reused) await layer.prepend('NODE_OPTIONS', opts, ' ', { scope: 'launch' });
    log.info(`At launch: NODE_OPTIONS starts with ${opts}`);
  }
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
  const tc = await nodeToolchain(ctx.appDir, ctx.env, 'cairn/yarn-install');
  const registry = `${(ctx.config('npm_config_registry') ?? DEFAULT_NPM_REGISTRY).replace(/\/+$/, '')}/`;
  ctx.log.info(`Node.js ${tc.node} (${tc.arch})`);
  const y = await yarnTool(ctx, req, tc, registry);
  if (y.line === 'classic') await classic(ctx, y, tc, scripts, registry);
  else await berry(ctx, y, scripts, registry);
  if (y.vendored) {
    await rm(join(ctx.appDir, y.vendored), { force: true });
    await rmdir(dirname(join(ctx.appDir, y.vendored))).catch(() => undefined); // only when nothing else is there
    ctx.log.info(`Left ${y.vendored} (yarn itself) out of the image`);
  }
  return {};
}
