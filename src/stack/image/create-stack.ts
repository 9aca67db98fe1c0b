/**
 * A locked stack → its build and run images, each one deterministic layer (the composed tree) plus a
 * config derived from stack.toml and the lock (image-config.ts). The build image's packages are
 * configured (`dpkg --configure -a` in a sandbox, through `configure`) before its layer is written.
 *
 * Layers are cached in a LayerCache under a key digesting `composeKey`, the mtime and this module's
 * format, so a second `stack create` with the same lock composes nothing. Images are values: nothing is
 * written to a store here, the caller writes both once both exist.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../../oci/digest.js';
import { CairnError } from '../../oci/errors.js';
import { type Image, makeImage } from '../../oci/image.js';
import type { Layer } from '../../oci/layer.js';
import type { ProgressSink } from '../../oci/progress.js';
import { composeImage, composeKey, type ImageKind } from '../compose.js';
import type { StackConfig } from '../config.js';
import type { ContentCache } from '../debian/cache.js';
import type { HttpFetch } from '../debian/http.js';
import type { StackLock } from '../lock.js';
import type { RootTree } from '../root-tree.js';
import { lockReleaseDate, stackImageConfig } from './image-config.js';
import type { LayerCache } from './layer-cache.js';
import { writeTreeLayer } from './tree-layer.js';

/** Bumped whenever the layer bytes made from the same composed tree change (writer, level, configure). */
const LAYER_FORMAT = 1;
const GZIP_LEVEL = 6;

export interface CreateStackImagesOptions {
  config: StackConfig;
  lock: StackLock;
  /** Downloaded .deb files. */
  debs: ContentCache;
  layers: LayerCache;
  /** Folder for the composed trees (each removed once its layer is written). */
  workDir: string;
  fetch: HttpFetch;
  /**
   * Configures the composed build tree (`configurePackages`, which needs root and bubblewrap). Undefined
   * when it cannot run here: composing the build image then fails up front, unless its layer is cached.
   */
  configure?: (tree: RootTree) => Promise<unknown>;
  /** Why `configure` is missing, for the error (e.g. "cairn is not running as root"). */
  configureUnavailable?: string;
  progress?: ProgressSink;
  warn?: (message: string) => void;
  /** Receives one line per step (composing, configuring, writing a layer). */
  log?: (message: string) => void;
  signal?: AbortSignal;
}

export interface StackImages {
  build: Image;
  run: Image;
  /** Which images came from the layer cache. */
  cached: Record<ImageKind, boolean>;
}

export async function createStackImages(opts: CreateStackImagesOptions): Promise<StackImages> {
  const keys = { build: await layerKey(opts, 'build'), run: await layerKey(opts, 'run') };
  const hits = { build: await opts.layers.get(keys.build), run: await opts.layers.get(keys.run) };
  if (!hits.build && !opts.configure) {
    throw new CairnError('UNSUPPORTED', `cannot compose the build image: its packages are configured with dpkg in a bubblewrap sandbox, which needs root (${opts.configureUnavailable ?? 'configuration is not available'})`, {
      hint: 'run `cairn stack create` as root (e.g. with sudo), or on a machine where it is; the images it makes can then be copied anywhere',
    });
  }
  const layer = async (image: ImageKind): Promise<Layer> => hits[image] ?? opts.layers.put(keys[image], (dest) => composeLayer(opts, image, dest));
  const run = await layer('run');
  const build = await layer('build');
  const image = (kind: ImageKind, l: Layer): Image => {
    const n = opts.lock[kind].packages.length;
    const cfg = stackImageConfig({ config: opts.config, lock: opts.lock, image: kind, createdBy: `cairn stack create: ${kind} image, ${n} Debian packages (${opts.lock.suite}/${opts.lock.arch})` });
    return makeImage(cfg, [l]);
  };
  return { build: image('build', build), run: image('run', run), cached: { build: hits.build !== undefined, run: hits.run !== undefined } };
}

/** Composes one image's tree in a temp folder, configures it (build image), and writes its layer to `dest`. */
async function composeLayer(opts: CreateStackImagesOptions, image: ImageKind, dest: string) {
  const root = await mkdtemp(join(opts.workDir, `${image}-`));
  const log = opts.log ?? (() => undefined);
  try {
    const n = opts.lock[image].packages.length;
    log(`composing the ${image} image from ${n} package${n === 1 ? '' : 's'}`);
    const composed = await composeImage({
      config: opts.config,
      lock: opts.lock,
      image,
      root: join(root, 'rootfs'),
      cache: opts.debs,
      fetch: opts.fetch,
      ...(image === 'build' ? { dpkgState: 'unpacked' as const } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (image === 'build' && composed.needsConfigure.length > 0) {
      log(`configuring the build image (dpkg --configure -a: ${composed.needsConfigure.length} packages with maintainer scripts)`);
      await opts.configure!(composed.tree);
    }
    opts.signal?.throwIfAborted();
    log(`writing the ${image} image layer`);
    return await writeTreeLayer(composed.tree, dest, { mtime: lockReleaseDate(opts.lock), level: GZIP_LEVEL });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Everything the layer of `image` depends on. */
async function layerKey(opts: CreateStackImagesOptions, image: ImageKind): Promise<string> {
  const compose = await composeKey(opts.config, opts.lock, image, image === 'build' ? 'unpacked' : 'installed');
  const inputs = { format: LAYER_FORMAT, level: GZIP_LEVEL, compose, mtime: lockReleaseDate(opts.lock).toISOString(), configured: image === 'build' };
  return sha256(JSON.stringify(inputs)).slice('sha256:'.length);
}
