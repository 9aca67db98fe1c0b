/**
 * Exporting one buildpack layer (digest §5): what the exporter does for each `launch` or `cache` layer. A launch
 * layer is reused (the previous image's layer with the same diffID, or one the platform already holds) or
 * written as a gzip blob; a cached layer becomes a cache candidate with its uncompressed tar.
 *
 * Contract: the outcome depends only on the layer's folder and the context, never on when it is computed, so
 * the creator may export a buildpack's layers ahead, while later buildpacks build (export-ahead.ts).
 */
import { join } from 'node:path';
import type { Digest } from '../../oci/digest.js';
import type { Image } from '../../oci/image.js';
import { fileLayer, type Layer } from '../../oci/layer.js';
import { type LayerSource, writeLayer, writeLayerTar } from '../../oci/layer/tar-writer.js';
import type { TreeRecord } from '../cache/cache.js';
import { gzipTarFile } from '../cache/gzip-tar.js';
import { treeFingerprint } from '../cache/tree-fingerprint.js';
import { ExitCode, LifecycleError } from '../exit-codes.js';
import { escapeId } from '../ids.js';
import { type LifecycleMetadata, layersMetadataFor } from '../labels/lifecycle-metadata.js';
import type { BuiltBuildpack, BuiltLayer } from './build-result.js';
import type { RestoredTree } from './restorer.js';

/** What exporting a layer needs besides the layer: the same for every layer of one export. */
export interface LayerExportContext {
  /** Host path of `<layers>`. */
  layersDir: string;
  /** The path of `<layers>` in the image (default /layers). */
  imageLayersDir?: string;
  /** The CNB user: owner of the layer entries. */
  uid: number;
  gid: number;
  /** Folder for the blobs and tars written (kept until the image is written and the cache committed). */
  workDir: string;
  previous?: { image: Image; metadata: LifecycleMetadata };
  /** Layers the restorer moved in from the cache's kept trees (`RestoreResult.trees`). */
  restoredTrees?: ReadonlyMap<string, RestoredTree>;
  /**
   * A layer with this diffID that the platform already holds (e.g. in its local store, from another image):
   * a launch layer matching one is taken from there instead of being compressed again.
   */
  knownLayer?: (diffID: Digest) => Promise<Layer | undefined>;
}

/** A layer the cache should keep: its uncompressed tar on disk. */
export interface CacheCandidate {
  buildpackId: string;
  layer: string;
  diffID: Digest;
  /** Writes the layer's uncompressed tar (once asked: the cache may hold the diffID already) and gives its path. */
  tar: () => Promise<string>;
  /** The layer's folder as the build left it, for caches that keep folders (`Cache.keepTree`); `setid`: it has setuid/setgid entries. */
  tree: { dir: string; setid: boolean } & TreeRecord;
}

/** One buildpack layer to export, with the paths reserved for its blob and its tar. */
export interface LayerJob {
  bp: BuiltBuildpack;
  layer: BuiltLayer;
  /** The diffID the previous image recorded for this launch layer. */
  previousSha: string | undefined;
  blob: string;
  tar: string;
}

export interface LayerOutcome {
  /** The previous image's (or the platform's) layer standing in for this launch layer. */
  reused?: Layer;
  /** The blob this export compressed for it. */
  compressed?: Layer;
  cacheCandidate?: CacheCandidate;
}

/** The jobs for a buildpack's launch and cache layers, in its layer order; each call of `name` names one job's files in workDir. */
export function layerJobs(ctx: LayerExportContext, bp: BuiltBuildpack, name: () => string): LayerJob[] {
  const previousLayers = ctx.previous ? layersMetadataFor(ctx.previous.metadata, bp.id)?.layers ?? {} : {};
  return bp.layers.filter((l) => l.types.launch || l.types.cache).map((layer) => {
    const file = join(ctx.workDir, name());
    return { bp, layer, previousSha: layer.types.launch ? previousLayers[layer.name]?.sha : undefined, blob: `${file}.tar.gz`, tar: `${file}.tar` };
  });
}

export async function exportLayer(ctx: LayerExportContext, job: LayerJob): Promise<LayerOutcome> {
  const { bp, layer, previousSha } = job;
  const { launch, cache } = layer.types;
  const owner = { uid: ctx.uid, gid: ctx.gid };
  const layerPath = `${(ctx.imageLayersDir ?? '/layers').slice(1)}/${escapeId(bp.id)}/${layer.name}`;
  const dir = join(ctx.layersDir, escapeId(bp.id), layer.name);
  const sources: LayerSource[] = [{ type: 'tree', source: dir, path: layerPath, ...owner }];
  // A cached folder restored from the cache's kept tree and left alone by the build keeps its diffID:
  // the stat fingerprint says so without reading a byte (tree-fingerprint.ts).
  const writer = `${layerPath} ${owner.uid}:${owner.gid}`;
  const seen = { setid: false };
  const tree = layer.hasDir && cache ? { fingerprint: treeFingerprint(dir, seen), writer, setid: seen.setid } : undefined;
  const restored = ctx.restoredTrees?.get(dir);
  let diffID: Digest | undefined = tree && restored?.fingerprint === tree.fingerprint && restored.writer === writer ? restored.diffID : undefined;
  // A layer that may be reused (the previous image's, the cache's, or one the platform holds) is first only
  // hashed: unchanged, it then costs one tar pass and no gzip. A cached one is written as a tar on the way,
  // which is what the cache keeps and what a changed one is gzipped from (cheaper than a second walk).
  let tarWritten = false;
  if (layer.hasDir && diffID === undefined && (previousSha !== undefined || cache)) {
    diffID = (await writeLayerTar(sources, cache ? job.tar : undefined)).diffID;
    tarWritten = cache;
  }
  const out: LayerOutcome = {};
  if (launch) {
    out.reused = reuseFromPrevious(ctx, previousSha, layer.hasDir ? diffID : undefined);
    if (!out.reused && layer.hasDir && diffID !== undefined) out.reused = await ctx.knownLayer?.(diffID);
    if (!out.reused && layer.hasDir) {
      out.compressed = tarWritten ? await gzipLayerTar(job.tar, diffID!, ctx.workDir) : fileLayer(job.blob, await writeLayer(sources, job.blob));
      diffID = out.compressed.diffID;
    }
  }
  if (tree && diffID) {
    const known = diffID;
    // Written only if the cache does not hold this diffID already (commitCache).
    const tar = tarWritten
      ? async () => job.tar
      : async () => ((await writeLayerTar(sources, job.tar)).diffID === known ? job.tar : changedDuringExport(bp.id, layer.name));
    out.cacheCandidate = { buildpackId: bp.id, layer: layer.name, diffID: known, tar, tree: { dir, ...tree } };
  }
  return out;
}

/** A cached layer whose folder changed between its hashing and its writing: the build did not end cleanly. */
function changedDuringExport(id: string, layer: string): never {
  throw new LifecycleError('LIFECYCLE_FAILED', `layer "${layer}" of ${id} changed while it was exported`, {
    phase: 'export', exitCode: ExitCode.exportError, hint: 'something is still writing into the layers folder; run the build again',
  });
}

/**
 * The previous image's layer for a launch layer, when it can stand in: the folder is absent (metadata-only
 * restore), or the fresh layer has the diffID the previous image recorded for it.
 */
function reuseFromPrevious(ctx: LayerExportContext, previousSha: string | undefined, freshDiffID: Digest | undefined): Layer | undefined {
  if (!previousSha || !ctx.previous) return undefined;
  if (freshDiffID !== undefined && freshDiffID !== previousSha) return undefined;
  return ctx.previous.image.layers.find((l) => l.diffID === previousSha);
}

/** The gzip blob of a layer tar already on disk (the same bytes the layer writer gives: same level, same header). */
async function gzipLayerTar(tarPath: string, diffID: Digest, workDir: string): Promise<Layer> {
  const gz = await gzipTarFile(tarPath, diffID, workDir);
  return fileLayer(gz.path, gz);
}
