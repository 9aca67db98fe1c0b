/**
 * Where buildpacks come from, for `builder create`, `buildpack package` and `build --buildpack`
 * (pack's locator types, `pkg/buildpack/locator_type.go`):
 *
 * | URI | what it is |
 * | --- | --- |
 * | a folder (`.`, `./bp`, `/abs/bp`, `file:///abs/bp`) | a buildpack: `buildpack.toml` at its root |
 * | a `.tgz` / `.tar.gz` / `.tar` file | a buildpack folder in a tar |
 * | a `.cnb` file (any tar holding `oci-layout`) | a buildpackage: an OCI layout in a tar |
 * | `docker://REF`, or a reference that is not a file | a buildpackage image (local store, `oci:`, registry) |
 * | `urn:cnb:builder:ID[@VERSION]` | a buildpack already in the builder (resolved by the caller) |
 *
 * A folder gives one module whose layer is written here; a buildpackage gives every buildpack it holds,
 * each with its own layer (blobs reused as they are: same diffID, no rewrite), and names its entry
 * buildpack. Relative paths are taken from `baseDir` (the folder of builder.toml / package.toml).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CairnError, messageOf } from '../oci/errors.js';
import { type Image, loadImage, parseJson } from '../oci/image.js';
import type { Layer } from '../oci/layer.js';
import { extractLayer } from '../oci/layer/extract.js';
import type { Index } from '../oci/spec.js';
import { openLayoutStore } from '../oci/store/layout/layout-store.js';
import { type BuildpackDescriptor, parseBuildpackToml } from '../lifecycle/files/buildpack-toml.js';
import { writeBuildpackLayer } from './buildpack-layer.js';
import {
  BUILDER_METADATA_LABEL, BUILDPACK_LAYERS_LABEL, BUILDPACKAGE_METADATA_LABEL, type BuildpackLayerInfo, type ModuleInfo,
  type Order, parseBuildpackageMetadataLabel, parseBuildpackLayersLabel,
} from './labels.js';

/** One buildpack and its layer, ready to be put in an image. */
export interface BuildpackModule {
  info: ModuleInfo;
  /** Its `io.buildpacks.buildpack.layers` entry, without the diffID (that is the layer's). */
  layerInfo: Omit<BuildpackLayerInfo, 'layerDiffID'>;
  layer: Layer;
  /** Where it came from, for messages. */
  source: string;
}

export interface LoadedSource {
  modules: BuildpackModule[];
  /** The buildpack the URI names (a folder's, or a buildpackage's entry buildpack). */
  entry: { id: string; version: string };
}

export interface SourceContext {
  /** Folder relative paths are taken from. */
  baseDir: string;
  /** Scratch folder for written layers and unpacked archives; must outlive the images made from them. */
  workDir: string;
  /** Opens an image reference for reading (the CLI maps it to a store with openTarget and closes it later). */
  openImage(ref: string): Promise<Image>;
}

export type BuildpackUri =
  | { kind: 'builder'; id: string; version?: string }
  | { kind: 'path'; path: string }
  | { kind: 'image'; ref: string };

const BUILDER_URN = 'urn:cnb:builder:';

/** Classifies a URI (a path is recognised by existing on disk). */
export async function classifyUri(uri: string, baseDir: string): Promise<BuildpackUri> {
  if (uri.startsWith(BUILDER_URN)) {
    const rest = uri.slice(BUILDER_URN.length);
    const at = rest.lastIndexOf('@');
    return at > 0 ? { kind: 'builder', id: rest.slice(0, at), version: rest.slice(at + 1) } : { kind: 'builder', id: rest };
  }
  if (uri.startsWith('urn:cnb:registry:')) {
    throw new CairnError('UNSUPPORTED', `buildpack ${uri}: the buildpack registry is not supported by cairn`, { hint: 'package the buildpack as an image or a .cnb file and name that instead' });
  }
  if (/^https?:\/\//.test(uri)) {
    throw new CairnError('UNSUPPORTED', `buildpack ${uri}: downloading buildpacks over HTTP is not supported by cairn`, { hint: 'download the file and name its path' });
  }
  if (uri.startsWith('docker://')) return { kind: 'image', ref: uri };
  const path = uri.startsWith('file://') ? fileURLToPath(uri) : resolve(baseDir, uri);
  if (await exists(path)) return { kind: 'path', path };
  if (uri.startsWith('file://') || uri.startsWith('.') || uri.startsWith('/')) {
    throw new CairnError('NOT_FOUND', `buildpack ${uri}: there is no file or folder at ${path}`, { hint: 'check the path (relative paths are taken from the folder of the config file)' });
  }
  return { kind: 'image', ref: uri };
}

/** Loads the buildpacks a folder, archive or image URI names (not `urn:cnb:builder:`, which the caller resolves). */
export async function loadBuildpackSource(uri: string, ctx: SourceContext): Promise<LoadedSource> {
  const c = await classifyUri(uri, ctx.baseDir);
  if (c.kind === 'builder') throw new CairnError('INTERNAL', `${uri} names a buildpack in the builder, which the caller resolves`);
  if (c.kind === 'image') {
    let image: Image;
    try {
      image = await ctx.openImage(c.ref);
    } catch (e) {
      throw new CairnError('NOT_FOUND', `buildpack ${uri}: ${messageOf(e)}`, { cause: e, hint: 'name a buildpack folder, a .cnb file or a buildpackage image (`cairn buildpack package` makes one)' });
    }
    return modulesOfPackage(image, uri);
  }
  if ((await stat(c.path)).isDirectory()) return moduleOfFolder(c.path, uri, ctx.workDir);
  const unpacked = await mkdtemp(join(ctx.workDir, 'unpacked-'));
  try {
    await extractLayer(createReadStream(c.path), unpacked, { stripSetid: true, devices: 'error', fifos: 'skip' });
  } catch (e) {
    throw new CairnError('INVALID_ARCHIVE', `buildpack ${uri}: ${c.path} is not a readable tar archive: ${messageOf(e)}`, { cause: e, hint: 'name a buildpack folder, a .tgz of one, or a .cnb buildpackage' });
  }
  if (await exists(join(unpacked, 'oci-layout'))) return modulesOfPackage(await loadLayoutImage(unpacked, uri), uri);
  return moduleOfFolder(unpacked, uri, ctx.workDir);
}

/** A buildpack folder → one module (its layer written into `workDir`). */
export async function moduleOfFolder(dir: string, uri: string, workDir: string): Promise<LoadedSource> {
  const file = join(dir, 'buildpack.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CairnError('NOT_FOUND', `buildpack ${uri}: cannot read ${file}: ${messageOf(e)}`, { cause: e, hint: 'a buildpack folder holds a buildpack.toml at its root' });
  }
  const d = parseBuildpackToml(text, file);
  const layer = await writeBuildpackLayer(dir, d.buildpack.id, d.buildpack.version, join(await mkdtemp(join(workDir, 'bp-')), 'layer.tar.gz'));
  return { modules: [{ info: infoOf(d), layerInfo: layerInfoOf(d), layer, source: uri }], entry: { id: d.buildpack.id, version: d.buildpack.version } };
}

/** A buildpackage image → its modules, each layer found by the diffID its label records. */
export function modulesOfPackage(image: Image, uri: string): LoadedSource {
  const labels = image.config.config?.Labels ?? {};
  const where = `buildpackage ${uri}`;
  if (labels[BUILDPACKAGE_METADATA_LABEL] === undefined && labels[BUILDER_METADATA_LABEL] !== undefined) {
    throw new CairnError('INVALID_ARGUMENT', `${uri} is a builder, not a buildpackage`, { hint: `name one of its buildpacks as urn:cnb:builder:ID when building with it, or package the buildpack` });
  }
  const { stacks: _stacks, ...meta } = parseBuildpackageMetadataLabel(labels[BUILDPACKAGE_METADATA_LABEL], where);
  const layers = parseBuildpackLayersLabel(labels[BUILDPACK_LAYERS_LABEL], where);
  const modules: BuildpackModule[] = [];
  for (const id of Object.keys(layers).sort()) {
    for (const version of Object.keys(layers[id]!).sort()) {
      const { layerDiffID, ...layerInfo } = layers[id]![version]!;
      const layer = image.layers.find((l) => l.diffID === layerDiffID);
      if (!layer) throw new CairnError('INVALID_CONFIG', `${where}: buildpack ${id}@${version} names layer ${layerDiffID}, which the image does not have`, { hint: 'the buildpackage is corrupt; package it again' });
      const entry = id === meta.id && version === meta.version;
      const info: ModuleInfo = entry ? { ...meta } : { id, version, ...(layerInfo.name ? { name: layerInfo.name } : {}), ...(layerInfo.homepage ? { homepage: layerInfo.homepage } : {}) };
      modules.push({ info, layerInfo, layer, source: uri });
    }
  }
  if (!modules.some((m) => m.info.id === meta.id && m.info.version === meta.version)) {
    throw new CairnError('INVALID_CONFIG', `${where}: its entry buildpack ${meta.id}@${meta.version} is not among its layers`, { hint: 'the buildpackage is corrupt; package it again' });
  }
  return { modules, entry: { id: meta.id, version: meta.version } };
}

/** The one image of an OCI layout folder (a `.cnb` holds one, tagged or not). */
export async function loadLayoutImage(dir: string, uri: string): Promise<Image> {
  const index = parseJson<Index>(await readFile(join(dir, 'index.json')), `index.json of ${uri}`);
  const manifests = index.manifests ?? [];
  if (manifests.length !== 1) {
    throw new CairnError('INVALID_ARGUMENT', `${uri} holds ${manifests.length} images; a .cnb buildpackage holds one`, { hint: 'package the buildpack again with `cairn buildpack package --format file`' });
  }
  const store = await openLayoutStore(dir);
  return loadImage(store, manifests[0]!.digest);
}

export function infoOf(d: BuildpackDescriptor): ModuleInfo {
  const b = d.buildpack;
  const licenses = b.licenses.filter((l) => l.type || l.uri).map((l) => ({ ...(l.type ? { type: l.type } : {}), ...(l.uri ? { uri: l.uri } : {}) }));
  return {
    id: b.id,
    version: b.version,
    ...(b.name ? { name: b.name } : {}),
    ...(b.description ? { description: b.description } : {}),
    ...(b.homepage ? { homepage: b.homepage } : {}),
    ...(b.keywords.length > 0 ? { keywords: [...b.keywords] } : {}),
    ...(licenses.length > 0 ? { licenses } : {}),
  };
}

export function layerInfoOf(d: BuildpackDescriptor): Omit<BuildpackLayerInfo, 'layerDiffID'> {
  const order: Order = d.order.map((g) => ({ group: g.group.map((r) => ({ id: r.id, version: r.version, ...(r.optional ? { optional: true } : {}) })) }));
  return {
    api: d.api,
    ...(d.stacks.length > 0 ? { stacks: d.stacks.map((s) => ({ id: s.id, ...(s.mixins.length > 0 ? { mixins: [...s.mixins] } : {}) })) } : {}),
    ...(d.targets.length > 0 ? { targets: d.targets.map((t) => ({ os: t.os, arch: t.arch, ...(t.variant ? { variant: t.variant } : {}), ...(t.distros.length > 0 ? { distros: t.distros.map((x) => ({ name: x.name, ...(x.version ? { version: x.version } : {}) })) } : {}) })) } : {}),
    ...(order.length > 0 ? { order } : {}),
    ...(d.buildpack.homepage ? { homepage: d.buildpack.homepage } : {}),
    ...(d.buildpack.name ? { name: d.buildpack.name } : {}),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
