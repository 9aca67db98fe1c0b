/**
 * The creator (digest §4.1 creator): analyze → detect → restore → build → export in one process, with the
 * same functions the separate phase executables run. It leaves the image as a value; the caller writes it to
 * its outputs and then commits the cache (`commitCache`), so a failed write never advances the cache.
 *
 * Unlike separate phases, the creator overlaps build and export: in the sandbox, each buildpack's layers are
 * exported while the buildpacks after it build (export-ahead.ts). The image and the cache are the same bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDigest } from '../../oci/digest.js';
import type { Image } from '../../oci/image.js';
import type { ApiVersion } from '../api.js';
import { formatApiVersion } from '../api.js';
import type { Cache } from '../cache/cache.js';
import { serializeAnalyzedToml, type AnalyzedToml } from '../files/analyzed-toml.js';
import type { OrderGroup } from '../files/module-ref.js';
import type { ProjectMetadataToml } from '../files/project-metadata-toml.js';
import type { SystemToml } from '../files/system-toml.js';
import type { LauncherInfo } from '../labels/build-metadata.js';
import type { Executor } from '../sandbox/executor.js';
import { analyze, type ImageSource } from './analyzer.js';
import type { LogSink } from './build-context.js';
import { type BuilderInput, runBuilder } from './builder.js';
import type { BuildOutcome } from './build-result.js';
import { runDetector, type DetectOutcome } from './detector.js';
import type { BuildDirs } from './dirs.js';
import { ExportAhead } from './export-ahead.js';
import { exportImage, type ExportInput, type ExportResult } from './exporter.js';
import type { LayerExportContext } from './layer-export.js';
import { restore, type RestoreResult } from './restorer.js';

export interface CreateInput {
  dirs: BuildDirs;
  executor: Executor;
  platformApi: ApiVersion;
  order: readonly OrderGroup[];
  system?: SystemToml;
  runImage: ImageSource;
  /** The image being built, read as the previous image (it may not exist yet). */
  previous?: ImageSource;
  cache?: Cache;
  /** Restore nothing but store.toml (`-skip-restore`). */
  skipRestore?: boolean;
  launcherPath: string;
  launcherInfo: LauncherInfo;
  uid: number;
  gid: number;
  created: Date;
  processType?: string;
  projectMetadata?: ProjectMetadataToml;
  execEnv?: string;
  processEnv: Readonly<Record<string, string | undefined>>;
  platform: { os: string; architecture: string; variant?: string };
  /** Host folder for layer blobs and scratch files; removed by the caller after the image is written. */
  workDir: string;
  /** Layers the platform already holds, by diffID (exporter's `knownLayer`). */
  knownLayer?: ExportInput['knownLayer'];
  log: LogSink;
  signal?: AbortSignal;
  /** Called as each phase starts and ends, for progress and timings. */
  onPhase?: (phase: 'analyze' | 'detect' | 'restore' | 'build' | 'export', state: 'start' | 'end') => void;
  /** bin/build's output as it comes (the builder phase's onOutput). */
  onBuildOutput?: BuilderInput['onOutput'];
}

export interface CreateResult {
  image: Image;
  analyzed: AnalyzedToml;
  detected: DetectOutcome;
  restored: RestoreResult;
  built: BuildOutcome;
  exported: ExportResult;
  /** Buildpack layers exported while later buildpacks built. */
  exportedAhead: number;
}

export async function create(input: CreateInput): Promise<CreateResult> {
  const warn = (m: string) => input.log('warn', m);
  const layers = input.dirs.host.layers;
  await mkdir(layers, { recursive: true });
  const step = async <T>(phase: Parameters<NonNullable<CreateInput['onPhase']>>[0], fn: () => Promise<T>): Promise<T> => {
    input.onPhase?.(phase, 'start');
    const r = await fn();
    input.onPhase?.(phase, 'end');
    return r;
  };

  const analysis = await step('analyze', () => analyze({
    ...(input.previous ? { previous: input.previous } : {}),
    runImage: input.runImage,
    platform: input.platform,
    warn,
  }));
  await writeFile(join(layers, 'analyzed.toml'), serializeAnalyzedToml(analysis.analyzed));
  const target = analysis.analyzed.runImage!.target!;
  const sandboxInput = {
    dirs: input.dirs, executor: input.executor, platformApi: input.platformApi, target, uid: input.uid, gid: input.gid,
    processEnv: input.processEnv, log: input.log, tmpDir: input.workDir,
    ...(input.execEnv ? { execEnv: input.execEnv } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  };

  const detected = await step('detect', () => runDetector({ ...sandboxInput, order: input.order, ...(input.system ? { system: input.system } : {}) }));
  const restored = await step('restore', () => restore({
    layersDir: layers,
    group: detected.group.group,
    previous: analysis.analyzed.metadata,
    ...(input.cache ? { cache: input.cache } : {}),
    ...(input.skipRestore ? { skipLayers: true } : {}),
    warn,
  }));
  const layerContext: LayerExportContext = {
    layersDir: layers,
    uid: input.uid,
    gid: input.gid,
    workDir: input.workDir,
    ...(analysis.previousImage ? { previous: { image: analysis.previousImage, metadata: analysis.analyzed.metadata } } : {}),
    restoredTrees: restored.trees,
    ...(input.knownLayer ? { knownLayer: input.knownLayer } : {}),
  };
  // Only the sandbox keeps a finished buildpack's layers from changing (export-ahead.ts).
  const ahead = input.executor.kind === 'bwrap' ? new ExportAhead(layerContext) : undefined;
  let built: BuildOutcome;
  let exported: ExportResult;
  try {
    built = await step('build', () => runBuilder({
      ...sandboxInput, group: detected.group, plan: detected.plan,
      ...(input.onBuildOutput ? { onOutput: input.onBuildOutput } : {}),
      ...(ahead ? { onBuilt: (bp) => ahead.built(bp) } : {}),
    }));
    exported = await step('export', () => exportImage({
      ...layerContext,
      appDir: input.dirs.host.app,
      build: built,
      runImage: analysis.runImage,
      runImageRef: { reference: analysis.analyzed.runImage!.reference, image: input.runImage.name },
      launcherPath: input.launcherPath,
      launcherInfo: input.launcherInfo,
      created: input.created,
      platformApi: formatApiVersion(input.platformApi),
      ...(input.processType ? { processType: input.processType } : {}),
      ...(input.projectMetadata ? { projectMetadata: input.projectMetadata } : {}),
      ...(ahead ? { ahead } : {}),
      warn,
    }));
  } finally {
    // Nothing may still be writing into the work folder once this returns or throws: the caller removes it.
    await ahead?.settle();
  }
  const exportedAhead = ahead?.started ?? 0;
  input.log('debug', `export: ${exportedAhead} buildpack layer(s) exported while later buildpacks built`);
  return { image: exported.image, analyzed: analysis.analyzed, detected, restored, built, exported, exportedAhead };
}

/**
 * Writes the next cache generation: every cached layer of this build, reusing the committed ones whose
 * diffID did not change. A cache failure is a warning: the image is already written. Once committed, a cache
 * that keeps folders is given the layers' folders (they leave `<layers>`: call this last).
 */
export async function commitCache(cache: Cache, exported: ExportResult, warn: (m: string) => void): Promise<void> {
  let writer;
  try {
    writer = await cache.begin();
    for (const l of exported.cacheLayers) {
      if (!(await writer.reuseLayer(l.diffID))) await writer.addLayer(l.diffID, await l.tar());
    }
    await writer.commit({
      buildpacks: exported.cacheMetadata.map((b) => ({
        key: b.key,
        version: b.version,
        layers: Object.fromEntries(Object.entries(b.layers).map(([name, l]) => [name, { ...l, sha: parseDigest(l.sha) }])),
      })),
    });
    if (cache.keepTree) {
      for (const l of exported.cacheLayers) await cache.keepTree(l.diffID, l.tree.dir, { fingerprint: l.tree.fingerprint, writer: l.tree.writer }, { setid: l.tree.setid });
    }
  } catch (e) {
    await writer?.abort().catch(() => undefined);
    warn(`the build cache ${cache.name} was not updated: ${(e as Error).message}`);
  }
}
