/**
 * Scenario 5 of issue 8, per app: image sizes, uncompressed (each layer's tar), from docker-archives of the
 * images the rebuild scenario left. cairn: the whole image, and its app-owned layers (the npm-install
 * buildpack's node_modules and the app layer). Baselines (Dockerfile A and C, podman and docker): the whole
 * image, and the Dockerfile's own layers (everything above the node 16 base, npm's cache included), and of
 * these the bytes of /app/node_modules: what npm installed, the part no builder can do without.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { archiveLayers, archiveLayerSizes } from '../archive-layers.js';
import { NODE_BASE } from '../base-images.js';
import type { BenchContext } from '../context.js';
import type { BenchApp } from '../dockerfiles.js';
import { engineTag } from './rebuild.js';

export interface ImageSize {
  total: number;
  /** cairn: node_modules + app layers; Dockerfile: the layers above the base. */
  own: number;
  /** cairn only: the sum of the compressed layer blobs. */
  compressed?: number;
  /** Dockerfiles only: the tar bytes of /app/node_modules in their own layers (npm's output, without its cache). */
  nodeModules?: number;
}

interface InspectLayer {
  size: number;
  kind: string;
  owner: string;
}

/** Series (`cairn`, `podman A`, …) → sizes in bytes. */
export async function benchSize(ctx: BenchContext, app: BenchApp, cairnImage: string): Promise<Record<string, ImageSize>> {
  const file = join(ctx.work, 'size.tar');
  const out: Record<string, ImageSize> = {};
  try {
    await ctx.bench.cairn(['image', 'copy', cairnImage, `docker-archive:${file}:bench/${app.name}:cairn`]);
    const sizes = await archiveLayerSizes(file);
    const layers = (JSON.parse((await ctx.bench.cairn(['inspect', cairnImage, '--json'])).stdout) as { layers: InspectLayer[] }).layers;
    const own = layers.map((l, i) => (l.owner === 'app' || l.owner.startsWith('cairn/npm-install:') ? sizes[i]! : 0));
    out.cairn = { total: sum(sizes), own: sum(own), compressed: sum(layers.map((l) => l.size)) };
    await ctx.bench.cairn(['image', 'copy', NODE_BASE, `docker-archive:${file}:${NODE_BASE}`]);
    const baseLayers = (await archiveLayerSizes(file)).length;
    for (const e of ctx.engines) {
      for (const kind of ['A', 'C']) {
        await rm(file, { force: true });
        await e.cli(['save', ...(e.name === 'podman' ? ['--format', 'docker-archive'] : []), '-o', file, engineTag(app, kind)]);
        const s = await archiveLayers(file, 'app/node_modules/');
        out[`${e.name} ${kind}`] = { total: sum(s.sizes), own: sum(s.sizes.slice(baseLayers)), nodeModules: sum(s.under.slice(baseLayers)) };
      }
    }
    return out;
  } finally {
    await rm(file, { force: true });
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
