/**
 * Pure changes to images (go-containerregistry's `mutate`). Each function returns a new Image and does no
 * I/O: layer bytes are read only when the result is written to a store.
 */
import { CairnError } from './errors.js';
import { type Image, imageFormat, makeImage } from './image.js';
import type { Layer } from './layer.js';
import { MediaType, toDockerType } from './media-types.js';
import type { ContainerConfig, History, ImageConfig } from './spec.js';

export interface Addendum {
  layer: Layer;
  history?: History;
}

/** Appends layers on top (with a history entry each when the image keeps a history). */
export function appendLayers(image: Image, additions: readonly Addendum[]): Image {
  const format = imageFormat(image);
  const layers = [...image.layers, ...additions.map((a) => inFormat(a.layer, format))];
  const config = clone(image.config);
  if (config.history !== undefined || additions.some((a) => a.history)) {
    config.history = [...(config.history ?? []), ...additions.map((a) => a.history ?? {})];
  }
  return makeImage(config, layers, { format });
}

/** Replaces the container config (`config.config`) with `fn`'s result. */
export function updateContainerConfig(image: Image, fn: (c: ContainerConfig) => ContainerConfig): Image {
  const config = clone(image.config);
  config.config = fn(clone(config.config ?? {}));
  return makeImage(config, image.layers, { format: imageFormat(image) });
}

/** Merges labels into the container config; a value of `undefined` removes the label. */
export function setLabels(image: Image, labels: Record<string, string | undefined>): Image {
  return updateContainerConfig(image, (c) => {
    const merged: Record<string, string> = { ...(c.Labels ?? {}) };
    for (const [k, v] of Object.entries(labels)) {
      if (v === undefined) delete merged[k];
      else merged[k] = v;
    }
    return { ...c, Labels: sortKeys(merged) };
  });
}

/** Sets `created` on the config and on every history entry (reproducible images use a fixed time). */
export function setCreated(image: Image, created: Date): Image {
  const config = clone(image.config);
  const iso = created.toISOString().replace(/\.000Z$/, 'Z');
  config.created = iso;
  if (config.history) config.history = config.history.map((h) => ({ ...h, created: iso }));
  return makeImage(config, image.layers, { format: imageFormat(image) });
}

/** Replaces the whole image config other than rootfs (which always follows the layers). */
export function setConfig(image: Image, config: ImageConfig): Image {
  return makeImage(clone(config), image.layers, { format: imageFormat(image) });
}

/**
 * Rebases `image` onto `newBase`: the layers up to and including the one whose diffID is `oldTopDiffID`
 * are replaced by `newBase`'s layers; the layers above stay as they are (same blobs, same digests).
 * os/architecture/variant come from the new base; the rest of the config is the image's own.
 */
export function rebase(image: Image, oldTopDiffID: string, newBase: Image): Image {
  const top = image.layers.findIndex((l) => l.diffID === oldTopDiffID);
  if (top < 0) {
    throw new CairnError('INVALID_ARGUMENT', `the image has no layer with diffID ${oldTopDiffID}, the recorded top of its base`, {
      hint: 'the image was not built on the base it claims; rebuild it',
    });
  }
  const format = imageFormat(image);
  const appLayers = image.layers.slice(top + 1);
  const config = clone(image.config);
  config.os = newBase.config.os;
  config.architecture = newBase.config.architecture;
  if (newBase.config.variant) config.variant = newBase.config.variant;
  else delete config.variant;
  if (image.config.history && newBase.config.history) {
    const appHistory = historyAfter(image.config.history, top + 1);
    config.history = [...clone(newBase.config.history), ...appHistory];
  } else {
    delete config.history;
  }
  // A base layer the image already has is the same blob: it is taken from the image, whose layers know the
  // store they were read from (a rebase written back there then need not ask whether it holds them).
  const own = new Map(image.layers.map((l) => [l.digest, l]));
  const layers = [...newBase.layers.map((l) => own.get(l.digest) ?? l), ...appLayers].map((l) => inFormat(l, format));
  return makeImage(config, layers, { format });
}

/** History entries after the first `baseLayers` non-empty ones. */
function historyAfter(history: readonly History[], baseLayers: number): History[] {
  let seen = 0;
  for (let i = 0; i < history.length; i++) {
    if (seen === baseLayers) return clone(history.slice(i));
    if (!history[i]!.empty_layer) seen++;
  }
  return [];
}

function inFormat(layer: Layer, format: 'oci' | 'docker'): Layer {
  const mediaType = format === 'docker' ? toDockerType(layer.mediaType) : toOciLayerType(layer.mediaType);
  return mediaType === layer.mediaType ? layer : { ...layer, mediaType };
}

function toOciLayerType(mt: string): string {
  if (mt === MediaType.DockerLayerGzip) return MediaType.OciLayerGzip;
  if (mt === MediaType.DockerForeignLayerGzip) return MediaType.OciLayerNondistributableGzip;
  return mt;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A mutable deep copy: the values handed out by Image are read-only. */
function clone<T>(v: T): Mutable<T> {
  return structuredClone(v) as Mutable<T>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
