/**
 * `<layers>/<bp>/<layer>.toml`, layer content metadata (digest §2.6, buildpack spec "Layer Content Metadata").
 *
 * The booleans live in `[types]`; top-level `launch`/`build`/`cache` are rejected as in the reference
 * lifecycle. A missing `[types]` means all false. The restorer writes these files back without `[types]`, so
 * a buildpack must re-declare the types to keep a layer.
 */
import { RESERVED_LAYER_NAMES } from '../ids.js';
import { Fields } from './fields.js';
import { readExecEnv } from './module-ref.js';
import { canonical, parseToml, stringifyToml } from './toml.js';

export interface LayerTypes {
  launch: boolean;
  build: boolean;
  cache: boolean;
}

export interface LayerToml {
  types: LayerTypes;
  /** Free-form `[metadata]`; empty when absent. */
  metadata: Record<string, unknown>;
}

const HINT = 'declare the layer as [types] launch/build/cache booleans plus an optional [metadata] table';

export function parseLayerToml(text: string, file = 'layer.toml'): LayerToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  for (const key of ['launch', 'build', 'cache']) {
    if (root.has(key)) root.fail(key, 'the launch, build and cache flags belong in the [types] table');
  }
  const types = root.table('types');
  return {
    types: {
      launch: types?.boolean('launch') ?? false,
      build: types?.boolean('build') ?? false,
      cache: types?.boolean('cache') ?? false,
    },
    metadata: root.freeform('metadata') ?? {},
  };
}

/**
 * Layer TOML text. `withTypes: false` writes only `[metadata]`, the form the restorer writes (reference
 * `EncodeLayerMetadataFile`).
 */
export function serializeLayerToml(l: LayerToml, withTypes = true): string {
  return stringifyToml({
    types: withTypes ? { launch: l.types.launch, build: l.types.build, cache: l.types.cache } : undefined,
    metadata: canonical(l.metadata),
  });
}

/** Execution environments of a layer from `[metadata] exec-env` (Buildpack API 0.12); empty = all. */
export function layerExecEnv(l: LayerToml, file = 'layer.toml'): string[] {
  return readExecEnv(new Fields(file, l.metadata, 'metadata', HINT));
}

/** A layer whose types are all false is scratch space: renamed `<layer>.ignore` after its buildpack's build. */
export function isIgnoredLayer(t: LayerTypes): boolean {
  return !t.launch && !t.build && !t.cache;
}

/** Layer names a buildpack must not use (`build`, `launch`, `store`: they collide with its own .toml files). */
export function isReservedLayerName(name: string): boolean {
  return RESERVED_LAYER_NAMES.has(name);
}
