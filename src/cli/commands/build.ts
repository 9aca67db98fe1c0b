/**
 * `cairn build IMAGE`: pack's build, daemonless. IMAGE is any cairn transport (a bare name is the local
 * store; a registry reference with --publish). pack flags cairn does not support fail with a message saying
 * so, never silently.
 */
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CairnError } from '../../oci/errors.js';
import { openTarget, type RegistryOptions } from '../../oci/open-target.js';
import { loadBuildpackSource } from '../../builder/buildpack-source.js';
import { formatTarget, parseTarget, type Target } from '../../oci/transport.js';
import { cairnHome } from '../../oci/store/local.js';
import { DEFAULT_BUILDER } from '../../builder/suggest.js';
import { buildImage } from '../../platform/build-image.js';
import { type CliContext, targetContext } from '../context.js';
import { type CairnConfig, readConfig } from '../config-file.js';
import { ensureDefaultBuilder } from '../default-builder.js';
import { descriptorBuildpacks, loadDescriptor } from '../descriptor.js';
import { collect, registryFlags, registryOptionsFrom } from '../flags.js';
import { hostPlatform } from '../platform.js';
import { openWithPolicy, PULL_POLICIES, type PullPolicy } from '../pull-policy.js';
import { progressReporter } from '../progress-reporter.js';
import { VERSION } from '../version.js';
import { imageOpener } from './builder.js';

/** pack build flags cairn does not implement, and why. */
const UNSUPPORTED: Record<string, string> = {
  '--docker-host': 'cairn needs no Docker daemon; write to docker-daemon:NAME to load the image into one',
  '--network': 'buildpacks share the host network in the sandbox',
  '--volume': 'mounting host folders into the build is not supported',
  '--workspace': 'the app is always at /workspace',
  '--lifecycle-image': 'cairn runs its own lifecycle',
  '--trust-builder': 'every builder runs sandboxed; there is nothing to trust',
  '--gid': 'the build runs as the builder\'s CNB user',
  '--uid': 'the build runs as the builder\'s CNB user',
  '--extension': 'image extensions are not supported yet',
  '--cache': 'use --cache-dir or --cache-image',
  '--platform': 'multi-platform builds are not supported yet',
  '--pre-buildpack': 'use project.toml [[io.buildpacks.pre.group]] once supported',
  '--post-buildpack': 'use project.toml [[io.buildpacks.post.group]] once supported',
};

export function buildCommand(ctx: CliContext): Command {
  const cmd = registryFlags(new Command('build').argument('<image>', 'the image to build: a name (local store), oci:DIR:TAG, docker-archive:FILE:NAME, docker-daemon:NAME, or a registry reference with --publish'))
    .description('build an image from source with Cloud Native Buildpacks')
    .option('-p, --path <dir>', 'the app folder', '.')
    .option('-B, --builder <ref>', `the builder image (default: $CAIRN_BUILDER, else ${DEFAULT_BUILDER}, made on first use)`)
    .option('-b, --buildpack <ref>', 'detect with these buildpacks instead of the builder\'s order (repeatable): ID[@VERSION] of the builder, a folder, a .tgz or .cnb file, a buildpackage image, or from=builder', collect)
    .option('-d, --descriptor <file>', 'the project descriptor (project.toml, schema 0.2; default: project.toml in --path when present)')
    .option('--run-image <ref>', 'use this run image instead of the builder\'s')
    .option('-e, --env <K=V|K>', 'build-time environment variable (repeatable); K alone takes the value from your environment', collect)
    .option('--env-file <file>', 'build-time environment variables, one K=V per line (repeatable)', collect)
    .option('--publish', 'write the image to a registry (a bare name then means docker.io)')
    .addOption(new Option('--pull-policy <policy>', 'when to read the builder and run image from their registry: always (default, or `cairn config pull-policy`), if-not-present (use the copy in the local store), never (local store only)').choices(PULL_POLICIES))
    .option('--cache-dir <dir>', 'keep the build cache in this folder')
    .option('--cache-image <ref>', 'keep the build cache as this image (a registry reference with --publish, or any cairn reference)')
    .option('--clear-cache', 'start from an empty build cache')
    .option('--sbom-output-dir <dir>', 'copy the build\'s SBOM files (launch/, build/) to this folder')
    .option('--creation-time <now|unix-seconds>', 'the image\'s creation time (default: 1980-01-01T00:00:01Z, for reproducible images)')
    .option('-D, --default-process <type>', 'the process the image runs by default')
    .option('-t, --tag <ref>', 'also write the image to this reference (repeatable)', collect)
    .option('--build-ca-cert <file>', 'trust this PEM CA certificate during the build only (repeatable)', collect)
    .addOption(new Option('--executor <kind>', 'bwrap: buildpacks run sandboxed; host: cairn runs inside the builder image').choices(['bwrap', 'host']).default('bwrap'))
    .option('--json', 'print the result as JSON');
  for (const flag of Object.keys(UNSUPPORTED)) cmd.addOption(new Option(`${flag} [value]`).hideHelp());
  return cmd.action(async (image: string, o: Record<string, unknown>, command: Command) => {
    const verbose = Boolean(command.optsWithGlobals().verbose);
    for (const [flag, why] of Object.entries(UNSUPPORTED)) {
      const key = flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (o[key] !== undefined) throw new CairnError('INVALID_ARGUMENT', `pack's ${flag} is not supported by cairn: ${why}`, { hint: 'see docs/pack-compat.md' });
    }
    const reg = await registryOptionsFrom(o, ctx);
    const tctx = targetContext(ctx);
    const appDir = resolve(ctx.cwd, (o.path as string) ?? '.');
    if (!(await stat(appDir).then((st) => st.isDirectory(), () => false))) {
      throw new CairnError('INVALID_ARGUMENT', `the app folder ${appDir} does not exist or is not a folder`, { hint: 'pass the app\'s folder with --path DIR (default: the current folder)' });
    }
    const caCerts = await readCaCerts((o.buildCaCert as string[] | undefined) ?? [], ctx);
    const config = await readConfig(ctx.env);
    const descriptor = await loadDescriptor(o.descriptor as string | undefined, appDir, ctx.cwd);
    const builderRef = (o.builder as string | undefined) ?? descriptor?.descriptor.builder ?? ctx.env.CAIRN_BUILDER ?? config.defaultBuilder ?? DEFAULT_BUILDER;
    const publish = Boolean(o.publish);
    const target = parseTarget(image, { publish });
    if (target.kind === 'registry' && !publish) {
      throw new CairnError('INVALID_ARGUMENT', `${formatTarget(target)} is a registry reference`, { hint: 'pass --publish to write it to the registry, or use a bare name for the local store' });
    }
    const refs = [image, ...((o.tag as string[] | undefined) ?? [])];
    const outputs = [];
    for (const r of refs) {
      const t = await openTarget(parseTarget(r, { publish }), 'write', tctx, reg);
      outputs.push({ store: t.store, tag: t.key, name: r });
    }
    const readable = target.kind === 'local' || target.kind === 'oci' || target.kind === 'registry';
    if (builderRef === DEFAULT_BUILDER) await ensureDefaultBuilder(ctx, reg, (m) => void ctx.stderr.write(`${m}\n`));
    const policy = (o.pullPolicy as PullPolicy | undefined) ?? config.pullPolicy ?? 'always';
    const builder = await openWithPolicy(builderRef, policy, ctx, reg, 'builder', config.registryMirrors);
    const runFlag = o.runImage as string | undefined;
    const openRun = (name: string) => openWithPolicy(runImageFor(name, target, config), policy, ctx, reg, 'run image', config.registryMirrors);
    const started = ctx.now().getTime();
    const phaseStart = new Map<string, number>();
    const progress = o.json ? undefined : progressReporter(ctx.stderr, 'export');
    // Phase titles in bold cyan on a terminal, plain elsewhere.
    const paint = (s: string): string => (ctx.stderr.isTTY ? `\x1b[1;36m${s}\x1b[0m` : s);
    if (o.cacheImage && o.cacheDir) throw new CairnError('INVALID_ARGUMENT', '--cache-image and --cache-dir both name the build cache', { hint: 'pass one of them' });
    const cacheImage = o.cacheImage ? await openTarget(parseTarget(o.cacheImage as string, { publish }), 'write', tctx, reg) : undefined;
    const loader = await buildpackLoader(ctx, reg);
    const buildpacks = await descriptorBuildpacks(o.buildpack as string[] | undefined, descriptor, loader.workDir).catch(async (e: unknown) => {
      await loader.close();
      throw e;
    });
    const result = await buildImage({
      ...(buildpacks ? { buildpacks: { refs: buildpacks, baseDir: ctx.cwd, load: loader.load } } : {}),
      ...(descriptor ? { appFiles: { ...(descriptor.descriptor.include ? { include: descriptor.descriptor.include } : {}), ...(descriptor.descriptor.exclude ? { exclude: descriptor.descriptor.exclude } : {}) } } : {}),
      appDir,
      builder,
      outputs,
      ...(target.kind === 'local' ? { knownLayers: { store: outputs[0]!.store, zlib: process.versions.zlib ?? 'unknown' } } : {}),
      ...(readable ? { previous: { store: (await openTarget(target, 'read', tctx, reg)).store, ref: outputs[0]!.tag, name: image } } : {}),
      ...(runFlag ? { runImage: await openWithPolicy(runFlag, policy, ctx, reg, 'run image', config.registryMirrors) } : {}),
      openRunImage: openRun,
      home: cairnHome(ctx.env),
      env: { ...Object.fromEntries((descriptor?.descriptor.buildEnv ?? []).map((e) => [e.name, e.value])), ...(await buildEnv(o, ctx)) },
      caCerts,
      ...(o.cacheDir ? { cacheDir: resolve(ctx.cwd, o.cacheDir as string) } : {}),
      ...(cacheImage ? { cacheImage: { store: cacheImage.store, tag: cacheImage.key } } : {}),
      clearCache: Boolean(o.clearCache),
      reuse: !o.clearCache,
      toolVersion: VERSION,
      ...(o.sbomOutputDir ? { sbomOutputDir: resolve(ctx.cwd, o.sbomOutputDir as string) } : {}),
      ...(o.creationTime ? { created: creationTime(o.creationTime as string, ctx) } : {}),
      ...(o.defaultProcess ? { processType: o.defaultProcess as string } : {}),
      executor: o.executor as 'bwrap' | 'host',
      log: (level, message) => {
        if (level === 'debug' && !verbose) return;
        // bin/build output is streamed below; the copy in the debug record is not printed again.
        const text = level === 'debug' && /^build \S+: exit/.test(message) ? message.split('\n')[0]! : message;
        if (!o.json) ctx.stderr.write(`${level === 'warn' ? 'warning: ' : ''}${text}\n`);
      },
      ...(o.json ? {} : { onBuildOutput: (_bp, chunk) => void ctx.stderr.write(chunk), progress: progress!.sink }),
      processEnv: pick(ctx.env, ['HOME', 'HOSTNAME', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']),
      platform: hostPlatform(process.arch),
      ...(ctx.env.PATH ? { searchPath: ctx.env.PATH } : {}),
      onPhase: (phase, state) => {
        if (o.json) return;
        const title = paint(`===> ${phase.toUpperCase()}`);
        if (state === 'start') {
          phaseStart.set(phase, ctx.now().getTime());
          ctx.stderr.write(`${title}\n`);
        } else {
          ctx.stderr.write(`${title} done in ${((ctx.now().getTime() - phaseStart.get(phase)!) / 1000).toFixed(2)} s\n`);
        }
      },
    }).finally(async () => {
      progress?.end();
      await loader.close();
      await cacheImage?.store.close();
    });
    const seconds = (ctx.now().getTime() - started) / 1000;
    if (o.json) {
      ctx.stdout.write(JSON.stringify({ image: refs, digest: result.digest, reused: result.reused, buildpacks: result.buildpacks, processes: result.processes, seconds }) + '\n');
    } else {
      ctx.stdout.write(`Successfully built image ${refs.join(', ')}\n  digest ${result.digest} (${seconds.toFixed(1)} s)\n`);
      if (target.kind === 'local') ctx.stdout.write(`  run it: cairn run ${image}\n`);
    }
  });
}

async function buildEnv(o: Record<string, unknown>, ctx: CliContext): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const file of (o.envFile as string[] | undefined) ?? []) {
    let text: string;
    try {
      text = await readFile(resolve(ctx.cwd, file), 'utf8');
    } catch (e) {
      throw new CairnError('INVALID_ARGUMENT', `cannot read --env-file ${file}: ${(e as Error).message}`, { hint: 'pass a file of K=V lines' });
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      setEnv(env, line, ctx, `--env-file ${file}`);
    }
  }
  for (const kv of (o.env as string[] | undefined) ?? []) setEnv(env, kv, ctx, '--env');
  return env;
}

function setEnv(env: Record<string, string>, kv: string, ctx: CliContext, where: string): void {
  const i = kv.indexOf('=');
  const name = i >= 0 ? kv.slice(0, i) : kv;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CairnError('INVALID_ARGUMENT', `${where}: "${name}" is not a variable name`, { hint: 'write K=V or K' });
  const value = i >= 0 ? kv.slice(i + 1) : ctx.env[name];
  if (value !== undefined) env[name] = value;
}

/**
 * The run image a builder names, or its mirror (`cairn config run-image-mirrors`) in the registry the image is
 * published to, as pack picks it: the layers then need no cross-registry copy.
 */
function runImageFor(name: string, output: Target, config: CairnConfig): string {
  if (output.kind !== 'registry') return name;
  const mirrors = config.runImageMirrors.find((e) => e.image === name)?.mirrors ?? [];
  return mirrors.find((m) => {
    const t = parseTarget(m);
    return t.kind === 'registry' && t.name.registry === output.name.registry;
  }) ?? name;
}

/**
 * What buildImage loads `--buildpack` values with: folders and archives unpacked into a scratch folder of
 * cairn's home (where inline buildpacks are written too), images opened from their stores; `close` removes the
 * one and closes the others.
 */
async function buildpackLoader(ctx: CliContext, reg: RegistryOptions) {
  const home = cairnHome(ctx.env);
  await mkdir(join(home, 'tmp'), { recursive: true });
  const workDir = await mkdtemp(join(home, 'tmp', 'buildpacks-'));
  const images = imageOpener(ctx, reg);
  const platform = hostPlatform(process.arch);
  return {
    workDir,
    load: (uri: string) => loadBuildpackSource(uri, { baseDir: ctx.cwd, workDir, openImage: (r) => images.open(r, platform, 'buildpackage') }),
    async close() {
      await images.closeAll();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

function creationTime(v: string, ctx: CliContext): Date {
  if (v === 'now') return ctx.now();
  if (/^\d+$/.test(v)) return new Date(Number(v) * 1000);
  throw new CairnError('INVALID_ARGUMENT', `--creation-time "${v}" is neither "now" nor a number of seconds`, { hint: 'e.g. --creation-time now or --creation-time 1700000000' });
}

/** The `--build-ca-cert` files, each holding at least one PEM certificate (INVALID_ARGUMENT otherwise). */
async function readCaCerts(files: string[], ctx: CliContext): Promise<string[]> {
  return Promise.all(files.map(async (f) => {
    const text = await readFile(resolve(ctx.cwd, f), 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      throw new CairnError('INVALID_ARGUMENT', `--build-ca-cert ${f} holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)`, {
        hint: `pass a PEM file; a DER certificate converts with: openssl x509 -inform der -in ${f} -out ${f}.pem`,
      });
    }
    return text;
  }));
}

function pick(env: Record<string, string | undefined>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (env[n] !== undefined ? [[n, env[n]!]] : [])));
}

