/**
 * The export phase (digest §5): the app image = the run image + one layer per launch layer (buildpacks in
 * group order, layers by name) + the SBOM layer + one layer per app slice and one for the rest of the app +
 * the launcher, config and process-type layers; the CNB labels; Env, WorkingDir, Entrypoint and a fixed `created`.
 *
 * Layer identity is the diffID. A launch layer whose diffID equals the one the previous image recorded for it,
 * or whose folder is absent (metadata-only restore), is taken from the previous image as it is — same blob,
 * nothing re-uploaded. Every other layer is written once, deterministically, by the layer writer.
 *
 * The creator may have exported some buildpack layers already, while later buildpacks built (`ahead`); those
 * are taken as they are, the others are exported here (layer-export.ts).
 *
 * The result is an Image value; writing it to a store, and committing the cache, is the caller's step.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Image } from '../../oci/image.js';
import { fileLayer, type Layer } from '../../oci/layer.js';
import { mapLimit } from '../../oci/limit.js';
import { type LayerSource, writeLayer } from '../../oci/layer/tar-writer.js';
import { appendLayers, type Addendum, setCreated, updateContainerConfig } from '../../oci/mutate.js';
import { ExitCode, LifecycleError } from '../exit-codes.js';
import { type BuildMetadataToml, serializeBuildMetadataToml } from '../files/build-metadata-toml.js';
import type { ProjectMetadataToml } from '../files/project-metadata-toml.js';
import { escapeId } from '../ids.js';
import { buildMetadataLabel, buildMetadataLabelOf, type LauncherInfo } from '../labels/build-metadata.js';
import { type BuildpackLayersMetadata, type LifecycleMetadata, lifecycleMetadataLabel } from '../labels/lifecycle-metadata.js';
import { BUILD_METADATA_LABEL, LIFECYCLE_METADATA_LABEL, PROJECT_METADATA_LABEL } from '../labels/names.js';
import { projectMetadataLabel } from '../labels/project-metadata.js';
import type { BuildOutcome, BuiltBuildpack, BuiltLayer } from './build-result.js';
import type { ExportAhead } from './export-ahead.js';
import { serializeLaunchPlan } from './launch-plan.js';
import { type CacheCandidate, exportLayer, type LayerExportContext, type LayerJob, layerJobs, type LayerOutcome } from './layer-export.js';
import { planSlices } from './slices.js';

export const LAUNCHER_PATH = '/cnb/lifecycle/launcher';
export const PROCESS_DIR = '/cnb/process';

export type { CacheCandidate } from './layer-export.js';

export interface ExportInput extends LayerExportContext {
  /** Host path of `<app>`. */
  appDir: string;
  /** The path of `<app>` in the image (default /workspace). */
  imageAppDir?: string;
  /** The builder's output (`runBuilder`, or `readBuildResult` in a separate exporter process). */
  build: BuildOutcome;
  runImage: Image;
  /** How the run image is recorded in the label (digest reference, name, mirrors). */
  runImageRef: { reference: string; image?: string; mirrors?: string[] };
  /** Host path of the launcher binary that goes into the image. */
  launcherPath: string;
  launcherInfo: LauncherInfo;
  /** `created` of the image and every history entry. */
  created: Date;
  platformApi: string;
  /** Overrides the buildpacks' default process (`-process-type`). */
  processType?: string;
  projectMetadata?: ProjectMetadataToml;
  /** Layers exported while the build ran, with this same context (creator only); stopped here. */
  ahead?: ExportAhead;
  warn: (message: string) => void;
}

export interface ExportResult {
  image: Image;
  metadata: LifecycleMetadata;
  /** Layers with `cache = true` and contents, for the cache writer. */
  cacheLayers: CacheCandidate[];
  /** Per buildpack, the cached layers' metadata (for the cache metadata). */
  cacheMetadata: BuildpackLayersMetadata[];
  /** Launch layers taken from the previous image unchanged. */
  reusedLayers: number;
  /** Buildpack layers this export compressed itself (for the platform's record of its own blobs). */
  compressed: Layer[];
}

export async function exportImage(input: ExportInput): Promise<ExportResult> {
  const imgLayers = input.imageLayersDir ?? '/layers';
  const imgApp = input.imageAppDir ?? '/workspace';
  const owner = { uid: input.uid, gid: input.gid };
  const additions: Addendum[] = [];
  const cacheLayers: CacheCandidate[] = [];
  const cacheMetadata: BuildpackLayersMetadata[] = [];
  const bpMetadata: BuildpackLayersMetadata[] = [];
  const launchLayerDirs: string[] = [];
  let reusedLayers = 0;
  const compressed: Layer[] = [];
  let n = 0;
  const blob = () => join(input.workDir, `layer-${n++}.tar.gz`);

  const metadataToml = buildMetadataOf(input.build);
  const jobs = input.build.buildpacks.flatMap((bp) => layerJobs(input, bp, () => `layer-${n++}`));
  const outcomes = await exportLayers(input, jobs);
  for (const bp of input.build.buildpacks) {
    const id = bp.id;
    const launchMd: BuildpackLayersMetadata = { key: id, version: bp.version, layers: {} };
    const cacheMd: BuildpackLayersMetadata = { key: id, version: bp.version, layers: {} };
    for (const [i, job] of jobs.entries()) {
      if (job.bp !== bp) continue;
      const { layer } = job;
      const { launch, build, cache } = layer.types;
      const out = outcomes[i]!;
      if (out.compressed) compressed.push(out.compressed);
      if (launch) {
        const chosen = out.reused ?? out.compressed;
        if (!chosen) throw missingLaunchLayer(bp, layer);
        if (out.reused) reusedLayers++;
        additions.push({ layer: chosen, history: { created_by: `Layer: '${layer.name}', Created by buildpack: ${id}@${bp.version}` } });
        launchMd.layers[layer.name] = { sha: chosen.diffID, data: layer.metadata, launch, build, cache };
        launchLayerDirs.push(`${imgLayers}/${escapeId(id)}/${layer.name}`);
      }
      if (out.cacheCandidate) {
        cacheLayers.push(out.cacheCandidate);
        cacheMd.layers[layer.name] = { sha: out.cacheCandidate.diffID, data: layer.metadata, launch, build, cache };
      } else if (cache) {
        throw new LifecycleError('LIFECYCLE_FAILED', `layer "${layer.name}" of ${id} is cache = true but has no contents`, {
          phase: 'export', exitCode: ExitCode.exportError, buildpack: { id, version: bp.version },
          hint: 'a cached layer must keep its folder; the buildpack should not delete it',
        });
      }
    }
    if (bp.store) launchMd.store = { metadata: bp.store };
    bpMetadata.push(launchMd);
    if (Object.keys(cacheMd.layers).length > 0) cacheMetadata.push(cacheMd);
  }

  const sbomDir = join(input.layersDir, 'sbom', 'launch');
  let sbomSha: string | undefined;
  if (await isDir(sbomDir)) {
    const l = await writeSources([{ type: 'tree', source: sbomDir, path: `${imgLayers.slice(1)}/sbom/launch`, ...owner }], blob());
    additions.push({ layer: reuseByDiffID(input, l), history: { created_by: 'Software Bill-of-Materials' } });
    sbomSha = l.diffID;
  }

  const appLayers: Layer[] = [];
  const slicePlan = await planSlices(input.appDir, imgApp, input.build.slices);
  for (const [i, filter] of slicePlan.slices.entries()) {
    const slice = await writeSources([{ type: 'tree', source: input.appDir, path: imgApp.slice(1), filter, ...owner }], blob());
    additions.push({ layer: reuseByDiffID(input, slice), history: { created_by: `Application Slice: ${i + 1}` } });
    appLayers.push(slice);
  }
  const app = await writeSources([{ type: 'tree', source: input.appDir, path: imgApp.slice(1), filter: slicePlan.remainder, ...owner }], blob());
  additions.push({ layer: reuseByDiffID(input, app), history: { created_by: 'Application Layer' } });
  appLayers.push(app);

  const launcher = await writeSources([
    { type: 'dir', path: 'cnb' },
    { type: 'dir', path: 'cnb/lifecycle' },
    { type: 'file', path: LAUNCHER_PATH.slice(1), source: input.launcherPath },
  ], blob());
  additions.push({ layer: reuseByDiffID(input, launcher), history: { created_by: 'Buildpacks Application Launcher' } });

  const processes = input.build.processes;
  const defaultType = input.processType ?? input.build.defaultProcess;
  if (input.processType && !processes.some((p) => p.type === input.processType)) {
    throw new LifecycleError('LIFECYCLE_FAILED', `process type "${input.processType}" is not defined by any buildpack (defined: ${processes.map((p) => p.type).join(', ') || 'none'})`, {
      phase: 'export', exitCode: ExitCode.exportError, hint: 'pick one of the defined process types for --default-process',
    });
  }
  const plan = serializeLaunchPlan({ layers: launchLayerDirs, processes, defaultType });
  const config = await writeSources([
    { type: 'dir', path: imgLayers.slice(1) },
    { type: 'dir', path: `${imgLayers.slice(1)}/config` },
    { type: 'file', path: `${imgLayers.slice(1)}/config/metadata.toml`, data: serializeBuildMetadataToml(metadataToml) },
    { type: 'file', path: `${imgLayers.slice(1)}/config/launch.plan`, data: plan },
  ], blob());
  additions.push({ layer: reuseByDiffID(input, config), history: { created_by: 'Buildpacks Launcher Config' } });

  let processTypesSha: string | undefined;
  if (processes.length > 0) {
    const pt = await writeSources([
      { type: 'dir', path: 'cnb' },
      { type: 'dir', path: PROCESS_DIR.slice(1) },
      ...processes.map((p): LayerSource => ({ type: 'symlink', path: `${PROCESS_DIR.slice(1)}/${p.type}`, target: LAUNCHER_PATH })),
    ], blob());
    additions.push({ layer: reuseByDiffID(input, pt), history: { created_by: 'Buildpacks Process Types' } });
    processTypesSha = pt.diffID;
  }

  const runImage = input.runImage;
  const metadata: LifecycleMetadata = {
    app: appLayers.map((l) => ({ sha: l.diffID })),
    ...(sbomSha ? { sbom: { sha: sbomSha } } : {}),
    buildpacks: bpMetadata,
    config: { sha: config.diffID },
    launcher: { sha: launcher.diffID },
    processTypes: { sha: processTypesSha ?? '' },
    runImage: {
      topLayer: runImage.layers.at(-1)?.diffID ?? '',
      reference: input.runImageRef.reference,
      ...(input.runImageRef.image ? { image: input.runImageRef.image } : {}),
      ...(input.runImageRef.mirrors?.length ? { mirrors: input.runImageRef.mirrors } : {}),
    },
    ...(input.runImageRef.image ? { stack: { runImage: { image: input.runImageRef.image, mirrors: input.runImageRef.mirrors ?? [] } } } : {}),
  };

  let image = appendLayers(runImage, additions);
  image = updateContainerConfig(image, (c) => {
    const labels: Record<string, string> = { ...(c.Labels ?? {}) };
    for (const l of input.build.labels) {
      if (l.key.startsWith('io.buildpacks.')) input.warn(`label ${l.key} from launch.toml ignored: io.buildpacks.* labels are the lifecycle's`);
      else labels[l.key] = l.value;
    }
    labels[LIFECYCLE_METADATA_LABEL] = lifecycleMetadataLabel(metadata);
    labels[BUILD_METADATA_LABEL] = buildMetadataLabel(buildMetadataLabelOf(metadataToml, input.launcherInfo));
    labels[PROJECT_METADATA_LABEL] = projectMetadataLabel(input.projectMetadata);
    const runPath = (c.Env ?? []).find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
    const env = (c.Env ?? []).filter((e) => !/^(PATH|CNB_LAYERS_DIR|CNB_APP_DIR|CNB_PLATFORM_API|CNB_DEPRECATION_MODE)=/.test(e));
    env.push(`CNB_LAYERS_DIR=${imgLayers}`, `CNB_APP_DIR=${imgApp}`, `CNB_PLATFORM_API=${input.platformApi}`, 'CNB_DEPRECATION_MODE=quiet',
      `PATH=${PROCESS_DIR}:/cnb/lifecycle${runPath ? ':' + runPath : ''}`);
    const out = { ...c, Env: env, WorkingDir: imgApp, Entrypoint: [defaultType ? `${PROCESS_DIR}/${defaultType}` : LAUNCHER_PATH], Labels: sortedLabels(labels) };
    delete out.Cmd;
    return out;
  });
  image = setCreated(image, input.created);
  return { image, metadata, cacheLayers, cacheMetadata, reusedLayers, compressed };
}

/** Buildpack layers exported at once. */
const LAYER_PARALLEL = 2;

/**
 * The outcomes of the buildpack layers, in job order: a layer exported ahead as it came out, the others hashed,
 * tarred and compressed here two at a time (files are read and zlib runs on the thread pool, so a second core
 * helps). Rejects only once none of these lanes is writing.
 */
async function exportLayers(input: ExportInput, jobs: LayerJob[]): Promise<LayerOutcome[]> {
  input.ahead?.stop();
  const ahead = jobs.map((job) => input.ahead?.take(job.bp.id, job.layer.name));
  const rest = jobs.filter((_, i) => !ahead[i]);
  const [early, late] = await Promise.allSettled([Promise.all(ahead), mapLimit(rest, LAYER_PARALLEL, (job) => exportLayer(input, job))]);
  if (early.status === 'rejected') throw early.reason;
  if (late.status === 'rejected') throw late.reason;
  let next = 0;
  return early.value.map((outcome) => outcome ?? late.value[next++]!);
}

/** metadata.toml (digest §4.2) of a build outcome, as the config layer and the build label carry it. */
function buildMetadataOf(build: BuildOutcome): BuildMetadataToml {
  const entry = ({ id, version, api, homepage }: BuiltBuildpack) => ({ id, version, api, ...(homepage ? { homepage } : {}) });
  return {
    ...(build.defaultProcess ? { buildpackDefaultProcessType: build.defaultProcess } : {}),
    buildpacks: build.buildpacks.map(entry),
    extensions: build.extensions,
    labels: build.labels,
    processes: build.processes,
    slices: build.slices,
  };
}

async function writeSources(sources: LayerSource[], dest: string): Promise<Layer> {
  const r = await writeLayer(sources, dest);
  return fileLayer(dest, r);
}

/** The previous image's layer with the same diffID as a fresh one, so unchanged layers keep their blob. */
function reuseByDiffID(input: ExportInput, fresh: Layer): Layer {
  return input.previous?.image.layers.find((l) => l.diffID === fresh.diffID) ?? fresh;
}

function missingLaunchLayer(bp: BuiltBuildpack, layer: BuiltLayer): LifecycleError {
  return new LifecycleError('LIFECYCLE_FAILED', `launch layer "${layer.name}" of ${bp.id} has no folder and the previous image has no such layer to reuse`, {
    phase: 'export', exitCode: ExitCode.exportError, buildpack: { id: bp.id, version: bp.version },
    hint: 'the buildpack must recreate the layer folder when the previous image does not have it',
  });
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
