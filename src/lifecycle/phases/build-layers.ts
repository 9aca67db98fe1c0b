/**
 * Reading what the build left in `<layers>`: the buildpacks' layer folders and their `<layer>.toml`
 * (digest §2.6), in export order — buildpacks in group order, layers by name.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupEntry } from '../files/group-toml.js';
import { type LayerToml, parseLayerToml } from '../files/layer-toml.js';
import { parseStoreToml, type StoreToml } from '../files/store-toml.js';
import { readCnbFile } from '../files/toml.js';
import { escapeId } from '../ids.js';

export interface BuiltLayer {
  buildpack: GroupEntry;
  name: string;
  /** Host path of the layer folder. */
  dir: string;
  /** Whether the folder exists (a launch layer without one is reused from the previous image). */
  hasContents: boolean;
  toml: LayerToml;
}

export interface BuiltBuildpack {
  entry: GroupEntry;
  layers: BuiltLayer[];
  store: StoreToml | undefined;
}

const NOT_LAYERS = new Set(['launch.toml', 'build.toml', 'store.toml']);

export async function readBuiltLayers(layersDir: string, group: readonly GroupEntry[]): Promise<BuiltBuildpack[]> {
  const out: BuiltBuildpack[] = [];
  for (const entry of group) {
    const bpDir = join(layersDir, escapeId(entry.id));
    const names = (await readdir(bpDir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.toml') && !NOT_LAYERS.has(f))
      .map((f) => f.slice(0, -'.toml'.length))
      .sort(byteOrder);
    const layers: BuiltLayer[] = [];
    for (const name of names) {
      const dir = join(bpDir, name);
      const toml = await readCnbFile(join(bpDir, `${name}.toml`), parseLayerToml);
      const hasContents = (await stat(dir).catch(() => undefined))?.isDirectory() ?? false;
      layers.push({ buildpack: entry, name, dir, hasContents, toml });
    }
    out.push({ entry, layers, store: await readCnbFile(join(bpDir, 'store.toml'), parseStoreToml, true) });
  }
  return out;
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
