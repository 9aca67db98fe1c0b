/**
 * The phase executables (digest §4.1): analyzer, detector, restorer, builder, exporter and creator, each
 * runnable on its own with the Platform API's flags and files, so an orchestrator (Tekton, kpack) can drive
 * them one by one. They run the same functions as `creator`, which runs them all in one process.
 *
 * Image references accept every cairn transport (a registry ref, `oci:DIR:TAG`, a bare name for cairn's local
 * store, …). cairn's own flags: `-executor host|bwrap` (host: buildpacks run as plain processes, for when the
 * lifecycle runs inside the build image; bwrap: sandboxed over `-rootfs`, the build image's root filesystem),
 * `-work DIR` (scratch space for layer blobs).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage } from '../../oci/copy.js';
import { loadImage } from '../../oci/image.js';
import { openTarget, type OpenedTarget, type TargetContext } from '../../oci/open-target.js';
import { parseTarget } from '../../oci/transport.js';
import { type ApiVersion, checkPlatformApi } from '../api.js';
import type { Cache } from '../cache/cache.js';
import { openVolumeCache } from '../cache/volume-cache.js';
import { openImageCache } from '../cache/image-cache.js';
import type { Phase } from '../exit-codes.js';
import { parseAnalyzedToml, serializeAnalyzedToml } from '../files/analyzed-toml.js';
import { parseGroupToml } from '../files/group-toml.js';
import { parseOrderToml } from '../files/order-toml.js';
import { parsePlanToml } from '../files/plan-toml.js';
import { parseProjectMetadataToml } from '../files/project-metadata-toml.js';
import { serializeReportToml } from '../files/report-toml.js';
import { parseSystemToml } from '../files/system-toml.js';
import { readCnbFile } from '../files/toml.js';
import { analyze } from '../phases/analyzer.js';
import type { LogSink } from '../phases/build-context.js';
import { runBuilder } from '../phases/builder.js';
import { readBuildResult } from '../phases/build-result.js';
import { commitCache, create } from '../phases/creator.js';
import { runDetector } from '../phases/detector.js';
import { type BuildDirs, identityDirs, SANDBOX_DIRS } from '../phases/dirs.js';
import { exportImage } from '../phases/exporter.js';
import { restore } from '../phases/restorer.js';
import { createBwrapExecutor } from '../sandbox/bwrap-executor.js';
import type { Executor } from '../sandbox/executor.js';
import { createHostExecutor } from '../sandbox/host-executor.js';
import { type FlagSpec, type ParsedFlags, parseFlags, usage } from './flags.js';

export const PHASES = ['analyzer', 'detector', 'restorer', 'builder', 'exporter', 'creator'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface PhaseContext extends TargetContext {
  log: LogSink;
  now: () => Date;
  /** The lifecycle's version and provenance, recorded in the build label. */
  version: string;
}

const PHASE_OF: Record<PhaseName, Phase> = { analyzer: 'analyze', detector: 'detect', restorer: 'restore', builder: 'build', exporter: 'export', creator: 'export' };

const DIR_FLAGS: Record<string, FlagSpec> = {
  layers: { env: 'CNB_LAYERS_DIR', def: '/layers' },
  app: { env: 'CNB_APP_DIR', def: '/workspace' },
  platform: { env: 'CNB_PLATFORM_DIR', def: '/platform' },
  buildpacks: { env: 'CNB_BUILDPACKS_DIR' },
  'build-config': { env: 'CNB_BUILD_CONFIG_DIR' },
  analyzed: { env: 'CNB_ANALYZED_PATH' },
  group: { env: 'CNB_GROUP_PATH' },
  plan: { env: 'CNB_PLAN_PATH' },
  order: { env: 'CNB_ORDER_PATH' },
  system: { env: 'CNB_SYSTEM_PATH' },
  uid: { env: 'CNB_USER_ID', def: '1000' },
  gid: { env: 'CNB_GROUP_ID', def: '1000' },
  'log-level': { env: 'CNB_LOG_LEVEL', def: 'info' },
  'insecure-registry': { env: 'CNB_INSECURE_REGISTRIES', multi: true },
  'cache-dir': { env: 'CNB_CACHE_DIR' },
  'cache-image': { env: 'CNB_CACHE_IMAGE' },
  'previous-image': { env: 'CNB_PREVIOUS_IMAGE' },
  'run-image': { env: 'CNB_RUN_IMAGE' },
  'skip-layers': { env: 'CNB_SKIP_LAYERS', bool: true },
  'skip-restore': { env: 'CNB_SKIP_RESTORE', bool: true },
  'process-type': { env: 'CNB_PROCESS_TYPE' },
  launcher: { def: '/cnb/lifecycle/launcher' },
  report: { env: 'CNB_REPORT_PATH' },
  'project-metadata': { env: 'CNB_PROJECT_METADATA_PATH' },
  tag: { multi: true },
  executor: { env: 'CAIRN_EXECUTOR', def: 'host' },
  rootfs: { env: 'CAIRN_ROOTFS' },
  work: { env: 'CAIRN_WORK_DIR' },
};

/** Runs one phase executable; resolves when it succeeded, throws a LifecycleError otherwise. */
export async function runPhase(name: PhaseName, args: readonly string[], ctx: PhaseContext): Promise<void> {
  const phase = PHASE_OF[name];
  const api = checkPlatformApi(ctx.env.CNB_PLATFORM_API, phase);
  const f = parseFlags(phase, args, DIR_FLAGS, ctx.env);
  const layers = f.get('layers')!;
  const path = (flag: string, file: string) => f.get(flag) ?? join(layers, file);
  const reg = { insecure: f.all('insecure-registry'), caCerts: [] };
  const warn = (m: string) => ctx.log('warn', m);

  switch (name) {
    case 'analyzer': {
      const image = requireImage(phase, f);
      const runImage = f.get('run-image') ?? (await runImageFromRunToml(phase, f, ctx));
      const result = await analyze({
        previous: await imageSource(f.get('previous-image') ?? image, 'read', ctx, reg),
        runImage: await imageSource(runImage, 'read', ctx, reg),
        platform: { os: 'linux', architecture: hostArch() },
        warn,
      });
      await mkdir(layers, { recursive: true });
      await writeFile(path('analyzed', 'analyzed.toml'), serializeAnalyzedToml(result.analyzed));
      return;
    }
    case 'detector': {
      const analyzed = await readCnbFile(path('analyzed', 'analyzed.toml'), parseAnalyzedToml);
      const order = await readCnbFile(orderPath(f), parseOrderToml);
      const system = await readCnbFile(f.get('system') ?? '/cnb/system.toml', parseSystemToml, true);
      await runDetector({
        ...(await sandboxInput(f, api, analyzed.runImage?.target, ctx)),
        order: order.order,
        orderExtensions: order.orderExtensions,
        ...(system ? { system } : {}),
        groupPath: path('group', 'group.toml'),
        planPath: path('plan', 'plan.toml'),
      });
      return;
    }
    case 'restorer': {
      const analyzed = await readCnbFile(path('analyzed', 'analyzed.toml'), parseAnalyzedToml);
      const group = await readCnbFile(path('group', 'group.toml'), parseGroupToml);
      const cache = await openCache(f, ctx, reg, warn);
      await restore({ layersDir: layers, group: group.group, previous: analyzed.metadata, ...(cache ? { cache } : {}), skipLayers: f.bool('skip-layers'), warn });
      return;
    }
    case 'builder': {
      const analyzed = await readCnbFile(path('analyzed', 'analyzed.toml'), parseAnalyzedToml);
      const group = await readCnbFile(path('group', 'group.toml'), parseGroupToml);
      const plan = await readCnbFile(path('plan', 'plan.toml'), parsePlanToml);
      await runBuilder({ ...(await sandboxInput(f, api, analyzed.runImage?.target, ctx)), group, plan });
      return;
    }
    case 'exporter': {
      const images = f.positional.concat(f.all('tag'));
      if (images.length === 0) throw usage(phase, 'no image to export to', 'pass the image reference(s) as arguments');
      const analyzed = await readCnbFile(path('analyzed', 'analyzed.toml'), parseAnalyzedToml);
      const run = await reopenByDigest(phase, analyzed.runImage?.reference, ctx, reg);
      if (!run) throw usage(phase, 'analyzed.toml names no run image', 'run the analyzer first');
      const previous = await reopenByDigest(phase, analyzed.image?.reference, ctx, reg);
      const work = await mkdtemp(join(f.get('work') ?? tmpdir(), 'cairn-export-'));
      try {
        const projectMetadata = await readCnbFile(path('project-metadata', 'project-metadata.toml'), parseProjectMetadataToml, true);
        const exported = await exportImage({
          layersDir: layers,
          appDir: f.get('app')!,
          build: await readBuildResult(layers),
          runImage: run.image,
          runImageRef: { reference: analyzed.runImage!.reference, ...(analyzed.runImage!.image ? { image: analyzed.runImage!.image } : {}) },
          ...(previous ? { previous: { image: previous.image, metadata: analyzed.metadata } } : {}),
          launcherPath: f.get('launcher')!,
          launcherInfo: { version: ctx.version, source: { git: { repository: 'cairn', commit: '' } } },
          uid: Number(f.get('uid')),
          gid: Number(f.get('gid')),
          created: createdTime(ctx),
          platformApi: `${api.major}.${api.minor}`,
          ...(f.get('process-type') ? { processType: f.get('process-type')! } : {}),
          ...(projectMetadata ? { projectMetadata } : {}),
          workDir: work,
          warn,
        });
        const tags: string[] = [];
        let digest = '';
        for (const ref of images) {
          const out = await openTarget(parseTarget(ref), 'write', ctx, reg);
          digest = (await writeImage(exported.image, out.store, out.key)).digest;
          await out.store.close();
          tags.push(ref);
        }
        await writeFile(path('report', 'report.toml'), serializeReportToml({ image: { tags, digest, manifestSize: exported.image.rawManifest.length } }));
        const cache = await openCache(f, ctx, reg, warn);
        if (cache) await commitCache(cache, exported, warn);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      return;
    }
    case 'creator': {
      const image = requireImage(phase, f);
      const order = await readCnbFile(orderPath(f), parseOrderToml);
      const runImage = f.get('run-image') ?? (await runImageFromRunToml(phase, f, ctx));
      const run = await imageSource(runImage, 'read', ctx, reg);
      const previous = await imageSource(f.get('previous-image') ?? image, 'read', ctx, reg);
      const cache = await openCache(f, ctx, reg, warn);
      const work = await mkdtemp(join(f.get('work') ?? tmpdir(), 'cairn-create-'));
      try {
        const sandbox = await sandboxInput(f, api, undefined, ctx);
        const r = await create({
          ...sandbox,
          order: order.order,
          runImage: run,
          previous,
          ...(cache ? { cache } : {}),
          skipRestore: f.bool('skip-restore'),
          launcherPath: f.get('launcher')!,
          launcherInfo: { version: ctx.version, source: { git: { repository: 'cairn', commit: '' } } },
          created: createdTime(ctx),
          ...(f.get('process-type') ? { processType: f.get('process-type')! } : {}),
          platform: { os: 'linux', architecture: hostArch() },
          workDir: work,
        });
        const tags: string[] = [];
        let digest = '';
        for (const ref of [image, ...f.all('tag')]) {
          const out = await openTarget(parseTarget(ref), 'write', ctx, reg);
          digest = (await writeImage(r.image, out.store, out.key)).digest;
          await out.store.close();
          tags.push(ref);
        }
        await writeFile(path('report', 'report.toml'), serializeReportToml({ image: { tags, digest, manifestSize: r.image.rawManifest.length } }));
        if (cache) await commitCache(cache, r.exported, warn);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      return;
    }
  }
}

function requireImage(phase: Phase, f: ParsedFlags): string {
  const image = f.positional[0];
  if (!image) throw usage(phase, 'no image named', 'pass the app image reference as the argument');
  return image;
}

async function imageSource(ref: string, mode: 'read', ctx: TargetContext, reg: { insecure: string[]; caCerts: string[] }) {
  const t: OpenedTarget = await openTarget(parseTarget(ref), mode, ctx, reg);
  return { store: t.store, ref: t.key, name: ref };
}

/** Reopens an image recorded as `<reference>@sha256:…` in analyzed.toml, by its digest. */
async function reopenByDigest(phase: Phase, recorded: string | undefined, ctx: TargetContext, reg: { insecure: string[]; caCerts: string[] }) {
  if (!recorded) return undefined;
  const at = recorded.lastIndexOf('@sha256:');
  if (at < 0) throw usage(phase, `analyzed.toml reference "${recorded}" has no digest`, 'run the analyzer again');
  const t = await openTarget(parseTarget(recorded.slice(0, at)), 'read', ctx, reg);
  return { image: await loadImage(t.store, recorded.slice(at + 1), { platform: { os: 'linux', architecture: hostArch() } }) };
}

async function runImageFromRunToml(phase: Phase, f: ParsedFlags, ctx: TargetContext): Promise<string> {
  const runToml = f.get('run') ?? ctx.env.CNB_RUN_PATH ?? '/cnb/run.toml';
  if (!existsSync(runToml)) throw usage(phase, `no -run-image given and ${runToml} does not exist`, 'pass -run-image REF');
  const m = /image\s*=\s*"([^"]+)"/.exec(await readFile(runToml, 'utf8'));
  if (!m) throw usage(phase, `${runToml} names no run image`, 'pass -run-image REF');
  return m[1]!;
}

function orderPath(f: ParsedFlags): string {
  const given = f.get('order');
  if (given) return given;
  const inLayers = join(f.get('layers')!, 'order.toml');
  return existsSync(inLayers) ? inLayers : '/cnb/order.toml';
}

async function openCache(f: ParsedFlags, ctx: TargetContext, reg: { insecure: string[]; caCerts: string[] }, warn: (m: string) => void): Promise<Cache | undefined> {
  const image = f.get('cache-image');
  if (image) {
    const t = await openTarget(parseTarget(image), 'write', ctx, reg);
    return openImageCache(t.store, t.key, { warn, platform: { os: 'linux', architecture: hostArch() } });
  }
  const dir = f.get('cache-dir');
  return dir ? openVolumeCache(dir, { warn }) : undefined;
}

async function sandboxInput(f: ParsedFlags, api: ApiVersion, target: { os: string; arch: string } | undefined, ctx: PhaseContext) {
  const host = {
    app: f.get('app')!,
    layers: f.get('layers')!,
    platform: f.get('platform')!,
    buildpacks: f.get('buildpacks') ?? '/cnb/buildpacks',
    buildConfig: f.get('build-config') ?? '/cnb/build-config',
  };
  let executor: Executor;
  let dirs: BuildDirs;
  const kind = f.get('executor');
  if (kind === 'bwrap') {
    const rootfs = f.get('rootfs');
    if (!rootfs) throw usage('build', '-executor bwrap needs -rootfs DIR (the build image\'s root filesystem)');
    executor = createBwrapExecutor({ rootfs, ...(ctx.env.PATH ? { searchPath: ctx.env.PATH } : {}) });
    dirs = {
      host: { ...host, buildpacks: f.get('buildpacks') ?? join(rootfs, 'cnb/buildpacks'), buildConfig: f.get('build-config') ?? join(rootfs, 'cnb/build-config') },
      sandbox: SANDBOX_DIRS,
    };
  } else if (kind === 'host') {
    executor = createHostExecutor();
    dirs = identityDirs(host);
  } else {
    throw usage('build', `unknown executor "${kind}"`, 'use -executor host or -executor bwrap');
  }
  return {
    dirs, executor, platformApi: api,
    target: target ?? { os: 'linux', arch: hostArch() },
    uid: Number(f.get('uid')), gid: Number(f.get('gid')),
    processEnv: ctx.env, log: ctx.log,
    ...(f.get('work') ? { tmpDir: f.get('work')! } : {}),
  };
}

/** `created`: SOURCE_DATE_EPOCH when set (Platform ≥ 0.9), else the lifecycle's fixed 1980-01-01T00:00:01Z. */
function createdTime(ctx: PhaseContext): Date {
  const epoch = ctx.env.SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000);
  if (epoch) ctx.log('warn', `SOURCE_DATE_EPOCH "${epoch}" is not a number of seconds; using 1980-01-01T00:00:01Z`);
  return new Date('1980-01-01T00:00:01Z');
}

function hostArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}
