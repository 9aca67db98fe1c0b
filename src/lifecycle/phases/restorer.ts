/**
 * The restore phase (digest §2.6 restore matrix, §4.1 restorer): before the build, puts back what the
 * buildpacks may reuse:
 * - `store.toml` of each buildpack, from the previous image's metadata;
 * - `<layer>.toml` (without `[types]`, so the buildpack must re-declare them) of every launch layer of the
 *   previous image that is not cached — metadata only: the exporter reuses the previous layer when the
 *   buildpack leaves the folder absent;
 * - metadata and contents of every cached layer, from the cache. A cached layer that also is a launch layer
 *   of the previous image is restored only when both agree on its diffID.
 * A cache entry that is missing or corrupt is dropped with a warning: a cache never fails a build.
 * A cached layer whose folder the cache kept (`Cache.takeTree`) is moved into place instead of extracted; its
 * fingerprint is handed on to the exporter, which then knows the diffID of a layer the build left alone.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../../oci/digest.js';
import type { Cache, CachedLayerMetadata, CacheMetadata, TreeRecord } from '../cache/cache.js';
import { extractLayer } from '../../oci/layer/extract.js';
import { mapLimit } from '../../oci/limit.js';
import type { GroupEntry } from '../files/group-toml.js';
import { serializeLayerToml } from '../files/layer-toml.js';
import { serializeStoreToml } from '../files/store-toml.js';
import { escapeId } from '../ids.js';
import { type LayerMetadata, layersMetadataFor, type LifecycleMetadata } from '../labels/lifecycle-metadata.js';

export interface RestoreInput {
  /** Host path of `<layers>`. */
  layersDir: string;
  /** The layers folder as written in cached tars (default `layers`, i.e. `/layers`). */
  tarLayersDir?: string;
  group: readonly GroupEntry[];
  /** The previous image's lifecycle metadata (from analyzed.toml). */
  previous: LifecycleMetadata;
  cache?: Cache;
  /** Restore store.toml only (`-skip-layers`). */
  skipLayers?: boolean;
  warn: (message: string) => void;
}

export interface RestoreResult {
  metadataOnly: number;
  fromCache: number;
  dropped: number;
  /** Layers restored from a kept tree, by host folder: the cached diffID, and what it holds for. */
  trees: Map<string, RestoredTree>;
}

export interface RestoredTree extends TreeRecord {
  diffID: Digest;
}

/** Cached layers extracted at once. */
const RESTORE_PARALLEL = 3;

export async function restore(input: RestoreInput): Promise<RestoreResult> {
  const result: RestoreResult = { metadataOnly: 0, fromCache: 0, dropped: 0, trees: new Map() };
  const cacheMd: CacheMetadata = input.cache && !input.skipLayers ? await input.cache.metadata() : { buildpacks: [] };
  // Cached contents are extracted a few at a time (disk-bound work); each task writes only its own folder.
  const extractions: (() => Promise<void>)[] = [];
  for (const bp of input.group) {
    const bpDir = join(input.layersDir, escapeId(bp.id));
    await mkdir(bpDir, { recursive: true });
    const fromImage = layersMetadataFor(input.previous, bp.id);
    if (fromImage?.store) await writeFile(join(bpDir, 'store.toml'), serializeStoreToml({ metadata: fromImage.store.metadata }));
    if (input.skipLayers) continue;
    const imageLayers = fromImage?.layers ?? {};
    const cachedLayers = cacheMd.buildpacks.find((b) => b.key === bp.id)?.layers ?? {};
    for (const name of Object.keys({ ...imageLayers, ...cachedLayers }).sort()) {
      const app = imageLayers[name];
      const cached = cachedLayers[name];
      if (cached?.cache) {
        if (app?.launch && app.sha !== cached.sha) {
          input.warn(`layer ${bp.id}:${name}: the cache and the previous image disagree; not restored`);
          result.dropped++;
          continue;
        }
        extractions.push(async () => {
          if (await restoreContents(input, bp, name, cached, result.trees)) {
            await writeLayerToml(bpDir, name, (app ?? cached).data);
            result.fromCache++;
          } else {
            result.dropped++;
          }
        });
      } else if (app?.launch && !app.cache && !app.build) {
        await writeLayerToml(bpDir, name, app.data);
        result.metadataOnly++;
      }
    }
  }
  await mapLimit(extractions, RESTORE_PARALLEL, (run) => run());
  return result;
}

async function writeLayerToml(bpDir: string, name: string, data: LayerMetadata['data']): Promise<void> {
  await writeFile(join(bpDir, `${name}.toml`), serializeLayerToml({ types: { launch: false, build: false, cache: false }, metadata: data }, false));
}

/**
 * Puts a cached layer's folder at `<layers>/<bp>/<name>`: the cache's kept tree when it has one, else its tar
 * extracted into a scratch folder, of which exactly `<layers>/<bp>/<name>` is moved into place (whatever else a
 * corrupt or hostile cache tar holds is dropped).
 */
async function restoreContents(input: RestoreInput, bp: GroupEntry, name: string, md: CachedLayerMetadata, trees: RestoreResult['trees']): Promise<boolean> {
  const what = `cached layer ${bp.id}:${name} (${md.sha})`;
  const dest = join(input.layersDir, escapeId(bp.id), name);
  await rm(dest, { recursive: true, force: true });
  const kept = await input.cache!.takeTree?.(md.sha, dest);
  if (kept) {
    trees.set(dest, { diffID: md.sha, ...kept });
    return true;
  }
  const tar = await input.cache!.openLayer(md.sha);
  if (!tar) return false;
  const scratch = await mkdtemp(join(input.layersDir, '.restore-'));
  try {
    await extractLayer(tar, scratch, { stripSetid: true, devices: 'skip', onWarning: input.warn });
    const inTar = join(scratch, input.tarLayersDir ?? 'layers', escapeId(bp.id), name);
    await rename(inTar, dest);
    return true;
  } catch (e) {
    input.warn(`${what} could not be restored and is dropped: ${(e as Error).message}`);
    await rm(dest, { recursive: true, force: true });
    return false;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
