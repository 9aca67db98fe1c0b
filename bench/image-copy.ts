/**
 * Push benchmark: `cairn image copy oci:… docker://…` against `skopeo copy` of the same image to Debian's
 * docker-registry on 127.0.0.1, runs interleaved. Every run pushes to a freshly started, empty registry, so
 * every layer is uploaded: skopeo remembers where it pushed blobs before (its blob-info cache) and would
 * otherwise mount them instead of uploading.
 * ratio = cairn median / skopeo median; ≤ 1.1 meets the goal ("no slower than 1.1× skopeo").
 *
 * The image: `layers` layers, each holding the benchmark tree (a node_modules of ~300 packages) at its own
 * path, written by cairn's layer writer into an OCI layout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeImage } from '../src/oci/copy.js';
import { makeImage } from '../src/oci/image.js';
import { fileLayer } from '../src/oci/layer.js';
import { writeLayer } from '../src/oci/layer/tar-writer.js';
import { openLayoutStore } from '../src/oci/store/layout/layout-store.js';
import { startDockerRegistry } from '../test/helpers/docker-registry.js';
import { median } from './stats.js';

const CAIRN = fileURLToPath(new URL('../../bin/cairn', import.meta.url));

export interface ImageCopyBench {
  imageBytes: number;
  cairnMs: number[];
  skopeoMs: number[];
  ratio: number;
}

function timed(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    let err = '';
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr.on('data', (d) => (err += d));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? done(performance.now() - t0) : fail(new Error(`${cmd} exited with ${code}: ${err}`))));
  });
}

export async function benchImageCopy(opts: { tree: string; runs: number; layers: number }): Promise<ImageCopyBench> {
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-copy-'));
  try {
    const layers = [];
    let imageBytes = 0;
    for (let i = 0; i < opts.layers; i++) {
      const layerPath = join(work, `layer-${i}.tar.gz`);
      const l = await writeLayer([{ type: 'tree', source: opts.tree, path: `app${i}/node_modules` }], layerPath);
      layers.push(fileLayer(layerPath, l));
      imageBytes += l.size;
    }
    const image = makeImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, layers);
    const layout = join(work, 'layout');
    await writeImage(image, await openLayoutStore(layout, { create: true }), 'bench');
    const onFreshRegistry = async (push: (host: string) => Promise<number>): Promise<number> => {
      const registry = await startDockerRegistry();
      try {
        return await push(registry.host);
      } finally {
        await registry.stop();
      }
    };
    const cairn = (host: string) => timed(CAIRN, ['image', 'copy', `oci:${layout}:bench`, `docker://${host}/bench/app:t`, '--insecure-registry', host]);
    const skopeo = (host: string) => timed('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:bench`, `docker://${host}/bench/app:t`]);
    await onFreshRegistry(cairn); // warm the page cache; not counted
    const cairnMs: number[] = [];
    const skopeoMs: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      cairnMs.push(await onFreshRegistry(cairn));
      skopeoMs.push(await onFreshRegistry(skopeo));
    }
    return { imageBytes, cairnMs, skopeoMs, ratio: median(cairnMs) / median(skopeoMs) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
