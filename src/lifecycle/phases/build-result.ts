/**
 * What the builder leaves for the exporter (digest §4.2, §5): `<layers>/config/metadata.toml` plus each group
 * buildpack's `<layer>.toml` files and store.toml. `readBuildResult` rebuilds the builder's outcome from those
 * files alone, so the exporter can run as a separate process.
 */
import { join } from 'node:path';
import type { BuildMetadataProcess } from '../files/build-metadata-toml.js';
import { parseBuildMetadataToml } from '../files/build-metadata-toml.js';
import type { GroupEntry } from '../files/group-toml.js';
import type { Label, Slice } from '../files/launch-toml.js';
import { isIgnoredLayer, type LayerTypes } from '../files/layer-toml.js';
import { readCnbFile } from '../files/toml.js';
import { escapeId } from '../ids.js';
import { readBuildpackOutputs, type BuildpackOutputs } from './build-files.js';

/** A layer a buildpack declared with at least one type true. */
export interface BuiltLayer {
  name: string;
  types: LayerTypes;
  /** The layer.toml `[metadata]`. */
  metadata: Record<string, unknown>;
  /** `<layers>/<bp>/<name>/` exists; a launch layer without it reuses the previous image's layer. */
  hasDir: boolean;
}

export interface BuiltBuildpack extends GroupEntry {
  /** In name order. */
  layers: BuiltLayer[];
  /** store.toml `[metadata]`, when the buildpack wrote one. */
  store?: Record<string, unknown>;
}

export interface BuildOutcome {
  /** Merged across the group, sorted by type. */
  processes: BuildMetadataProcess[];
  /** The buildpack-provided default process type. */
  defaultProcess?: string;
  /** launch.toml labels, later buildpacks winning for equal keys. */
  labels: Label[];
  /** launch.toml slices, in buildpack order. */
  slices: Slice[];
  /** The group, in order. */
  buildpacks: BuiltBuildpack[];
  extensions: GroupEntry[];
}

/** The path of metadata.toml under `<layers>`. */
export function buildMetadataPath(layersDir: string): string {
  return join(layersDir, 'config', 'metadata.toml');
}

/** The part of a buildpack's outputs the exporter needs. */
export function builtBuildpack(entry: GroupEntry, out: BuildpackOutputs): BuiltBuildpack {
  const layers = out.layers
    .filter((l) => !isIgnoredLayer(l.toml.types))
    .map((l): BuiltLayer => ({ name: l.name, types: { ...l.toml.types }, metadata: l.toml.metadata, hasDir: l.hasDir }));
  return { ...entry, layers, ...(out.store ? { store: out.store.metadata } : {}) };
}

/** Rebuilds the builder's outcome from `<layers>` (host path) after a build. */
export async function readBuildResult(layersDir: string): Promise<BuildOutcome> {
  const md = await readCnbFile(buildMetadataPath(layersDir), parseBuildMetadataToml);
  const buildpacks: BuiltBuildpack[] = [];
  for (const bp of md.buildpacks) {
    buildpacks.push(builtBuildpack(bp, await readBuildpackOutputs(join(layersDir, escapeId(bp.id)))));
  }
  return {
    processes: md.processes,
    ...(md.buildpackDefaultProcessType ? { defaultProcess: md.buildpackDefaultProcessType } : {}),
    labels: md.labels,
    slices: md.slices,
    buildpacks,
    extensions: md.extensions,
  };
}
