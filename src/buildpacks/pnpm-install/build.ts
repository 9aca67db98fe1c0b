/**
 * cairn/pnpm-install build. Layers:
 * - `pnpm` (build, cache): pnpm itself (version.ts) from the registry package `pnpm`, integrity checked;
 *   never in the image. The version chosen for a request and Node.js version is kept in its metadata, so a
 *   rebuild asks the registry nothing;
 * - `pnpm-store` (cache only): pnpm's content-addressed store (`store-dir`);
 * - `build-modules` (build, cache): `pnpm install --frozen-lockfile` in a skeleton of the app (sdk
 *   node-project.ts), devDependencies included; the build scripts run against it;
 * - `launch-modules` (launch): `pnpm install --prod --frozen-lockfile --offline`, from the store filled
 *   above, in a second skeleton; the app's `node_modules` ends as a symlink into it.
 * Key of both module layers: sha256 of package.json, pnpm-lock.yaml, pnpm-workspace.yaml, the Node.js and
 * pnpm versions and the architecture. Same key: nothing is installed.
 */
import { join } from 'node:path';
import {
  type BuildContext, type BuildResult, BuildpackError, cacheKey, DEFAULT_NPM_REGISTRY, type Env, installRelease, linkNodeModules, makeSkeleton,
  nodeToolchain, type PackageJson, type PackageRelease, parsePackageManager, readJsonIfExists, readLayerMetadata, readTextIfExists, registryPackage, resolveRelease, runTool,
  scriptsToRun, writeModulesSboms,
} from '../sdk/index.js';
import { pnpmFailure } from './pnpm-errors.js';
import { pnpmRequest } from './version.js';

const LAYOUT = '1';

export async function build(ctx: BuildContext): Promise<BuildResult> {
  const { log } = ctx;
  const manifest = await readTextIfExists(join(ctx.appDir, 'package.json'));
  const pkg = await readJsonIfExists<PackageJson>(join(ctx.appDir, 'package.json'), 'package.json');
  if (!pkg || manifest === undefined) throw new BuildpackError('there is no package.json in the app', { hint: 'cairn/pnpm-install builds pnpm projects: add a package.json' });
  const lockfile = await readTextIfExists(join(ctx.appDir, 'pnpm-lock.yaml'));
  const pm = parsePackageManager(pkg.packageManager);
  const req = pnpmRequest({ ...(pm ? { packageManager: pm } : {}), ...(pkg.engines?.pnpm !== undefined ? { enginesPnpm: pkg.engines.pnpm } : {}), lockfile });
  const scripts = scriptsToRun(pkg.scripts, ctx.config('BP_NODE_RUN_SCRIPTS'));
  const tc = await nodeToolchain(ctx.appDir, ctx.env, ctx.target.arch, 'cairn/pnpm-install');
  const registry = `${(ctx.config('npm_config_registry') ?? DEFAULT_NPM_REGISTRY).replace(/\/+$/, '')}/`;
  log.info(`Node.js ${tc.node} (${tc.arch})`);

  // pnpm: the version chosen for this request and Node.js version last time, else a fresh choice.
  const prev = await readLayerMetadata(ctx.layersDir, 'pnpm');
  const source = registryPackage(registry, 'pnpm', ctx.env);
  const choose = () => resolveRelease(source, req.range, tc.node, `pnpm ${req.range} (${req.source})`);
  let release: PackageRelease | undefined;
  let version: string;
  if (prev && prev.request === req.range && prev.node === tc.node && typeof prev.version === 'string') version = prev.version;
  else version = (release = await choose()).version;
  log.info(`pnpm ${version} (${req.source}), at build time only`);
  const tool = await ctx.layer('pnpm', { types: { build: true, cache: true }, key: `pnpm ${version} layout ${LAYOUT}`, metadata: { request: req.range, node: tc.node, version } });
  if (!tool.reused) {
    const r = release ?? (await choose());
    log.info(`Downloading ${r.tarball}`);
    await installRelease(r, join(tool.path, 'package'), { env: ctx.env, staging: join(ctx.layersDir, '.staging-pnpm'), what: `pnpm ${r.version}` });
    log.detail(`${r.integrity.split('-')[0]} verified`);
  }
  const js = join(tool.path, 'package', 'bin', 'pnpm.cjs');

  const store = await ctx.layer('pnpm-store', { types: { cache: true }, key: `pnpm-store layout ${LAYOUT}` });
  const env: Env = {
    ...ctx.env,
    npm_config_registry: registry,
    npm_config_store_dir: store.path,
    npm_config_update_notifier: 'false',
    npm_config_confirm_modules_purge: 'false',
    npm_config_manage_package_manager_versions: 'false',
  };
  const pnpm = async (args: string[], cwd: string): Promise<void> => {
    const shown = `pnpm ${args.join(' ')}`;
    const started = ctx.now();
    const r = await runTool(log, shown, 'node', [js, ...args], cwd, env);
    if (r.code !== 0) throw pnpmFailure(shown, r.code, r.output);
    log.detail(`done in ${((ctx.now() - started) / 1000).toFixed(1)} s`);
  };

  const workspaceFile = await readTextIfExists(join(ctx.appDir, 'pnpm-workspace.yaml'));
  const key = cacheKey({ manifest, lockfile, workspace: workspaceFile, node: tc.node, pnpm: version, arch: tc.arch, layout: LAYOUT });
  const buildModules = await ctx.layer('build-modules', { types: { build: true, cache: true }, key });
  const launchModules = await ctx.layer('launch-modules', { types: { launch: true }, key });
  const frozen = lockfile === undefined ? ['--no-frozen-lockfile'] : ['--frozen-lockfile'];
  if (lockfile === undefined) log.info('no pnpm-lock.yaml: installing the newest versions package.json allows (commit a lockfile for repeatable builds)');
  if (buildModules.reused) {
    log.info(`Reusing node_modules: package.json, pnpm-lock.yaml, Node.js and pnpm unchanged (${key.slice(0, 19)}…)`);
  } else {
    await makeSkeleton(ctx.appDir, join(buildModules.path, 'project'));
    await pnpm(['install', ...frozen, '--prod=false'], join(buildModules.path, 'project'));
    await buildModules.prepend('NODE_PATH', join(buildModules.path, 'project', 'node_modules'), ':', { scope: 'build' });
  }
  if (launchModules.reused) {
    log.info('Reusing the launch node_modules layer of the previous image');
  } else {
    log.info('Preparing the launch node_modules without devDependencies');
    await makeSkeleton(ctx.appDir, join(launchModules.path, 'project'));
    await pnpm(['install', '--prod', ...frozen, '--offline'], join(launchModules.path, 'project'));
  }

  await linkNodeModules(ctx.appDir, join(buildModules.path, 'project', 'node_modules'));
  for (const s of scripts) {
    const r = await runTool(log, `pnpm run ${s}`, 'node', [js, 'run', s], ctx.appDir, env);
    if (r.code !== 0) {
      throw new BuildpackError(`the "${s}" script of package.json failed (exit code ${r.code})`, { output: r.output.trimEnd().split('\n').slice(-60).join('\n'), hint: `fix the "${s}" script (its output is above); run \`pnpm run ${s}\` locally to reproduce` });
    }
  }
  await linkNodeModules(ctx.appDir, join(launchModules.path, 'project', 'node_modules'));
  await writeModulesSboms(ctx, buildModules, launchModules, join('project', 'node_modules'));
  return {};
}
