/**
 * The labels of builders and buildpackages (digest §7; builder extension spec; pack `pkg/dist`,
 * `internal/builder/metadata.go`), their JSON shapes as pack writes them — struct fields in pack's order,
 * empty optional fields left out — and checked readers for inspecting images made by cairn or by pack.
 */
import { CairnError } from '../oci/errors.js';
import { SUPPORTED_BUILDPACK_APIS, SUPPORTED_PLATFORM_APIS, formatApiVersion } from '../lifecycle/api.js';

export const BUILDER_METADATA_LABEL = 'io.buildpacks.builder.metadata';
export const BUILDER_API_LABEL = 'io.buildpacks.builder.api';
export const BUILDPACK_ORDER_LABEL = 'io.buildpacks.buildpack.order';
export const BUILDPACK_SYSTEM_LABEL = 'io.buildpacks.buildpack.system';
export const BUILDPACK_LAYERS_LABEL = 'io.buildpacks.buildpack.layers';
export const BUILDPACKAGE_METADATA_LABEL = 'io.buildpacks.buildpackage.metadata';
export const LIFECYCLE_VERSION_LABEL = 'io.buildpacks.lifecycle.version';
export const LIFECYCLE_APIS_LABEL = 'io.buildpacks.lifecycle.apis';
export const STACK_ID_LABEL = 'io.buildpacks.stack.id';

/** The Builder API version cairn's builders implement (builder extension spec). */
export const BUILDER_API = '0.1';

/** pack's `dist.ModuleInfo` (the descriptive part of a buildpack). */
export interface ModuleInfo {
  id: string;
  version: string;
  name?: string;
  description?: string;
  homepage?: string;
  keywords?: string[];
  licenses?: { type?: string; uri?: string }[];
}

export interface StackInfo {
  id: string;
  mixins?: string[];
}

export interface TargetInfo {
  os: string;
  arch: string;
  variant?: string;
  distros?: { name: string; version?: string }[];
}

/** A group entry of an order (`{ id, version, optional }`, optional left out when false). */
export interface OrderRef {
  id: string;
  version?: string;
  optional?: boolean;
}

export type Order = { group: OrderRef[] }[];

/** One buildpack's entry in `io.buildpacks.buildpack.layers` (pack's `ModuleLayerInfo`). */
export interface BuildpackLayerInfo {
  api: string;
  stacks?: StackInfo[];
  targets?: TargetInfo[];
  order?: Order;
  layerDiffID: string;
  homepage?: string;
  name?: string;
}

/** `io.buildpacks.buildpack.layers`: id → version → layer info. */
export type BuildpackLayers = Record<string, Record<string, BuildpackLayerInfo>>;

export interface ApiSet {
  deprecated: string[];
  supported: string[];
}

export interface LifecycleApis {
  buildpack: ApiSet;
  platform: ApiSet;
}

export interface RunImageInfo {
  image: string;
  mirrors: string[];
}

export interface BuilderMetadata {
  description: string;
  buildpacks: ModuleInfo[];
  extensions: ModuleInfo[];
  stack: { runImage: RunImageInfo };
  lifecycle: { version: string; api: { buildpack: string; platform: string }; apis: LifecycleApis };
  createdBy: { name: string; version: string };
  images: RunImageInfo[];
}

/** `io.buildpacks.buildpackage.metadata`: the entry buildpack of a package. */
export interface BuildpackageMetadata extends ModuleInfo {
  stacks: StackInfo[];
}

/** The APIs of cairn's lifecycle, as `io.buildpacks.lifecycle.apis` carries them. */
export function lifecycleApis(): LifecycleApis {
  return {
    buildpack: { deprecated: [], supported: SUPPORTED_BUILDPACK_APIS.map(formatApiVersion) },
    platform: { deprecated: [], supported: SUPPORTED_PLATFORM_APIS.map(formatApiVersion) },
  };
}

/** A ModuleInfo with pack's field order and empty fields left out. */
export function moduleInfoJson(m: ModuleInfo): ModuleInfo {
  return compact({ id: m.id, name: m.name, version: m.version, description: m.description, homepage: m.homepage, keywords: m.keywords, licenses: m.licenses }) as unknown as ModuleInfo;
}

export function layerInfoJson(i: BuildpackLayerInfo): BuildpackLayerInfo {
  return compact({ api: i.api, stacks: i.stacks, targets: i.targets, order: i.order?.map(orderGroupJson), layerDiffID: i.layerDiffID, homepage: i.homepage, name: i.name }) as unknown as BuildpackLayerInfo;
}

export function orderJson(order: Order): Order {
  return order.map(orderGroupJson);
}

function orderGroupJson(g: { group: OrderRef[] }): { group: OrderRef[] } {
  return { group: g.group.map((r) => compact({ id: r.id, version: r.version, optional: r.optional ? true : undefined }) as unknown as OrderRef) };
}

/** The layers label with ids and versions sorted (Go's encoding/json sorts map keys). */
export function buildpackLayersJson(layers: BuildpackLayers): string {
  const out: BuildpackLayers = {};
  for (const id of Object.keys(layers).sort()) {
    out[id] = {};
    for (const v of Object.keys(layers[id]!).sort()) out[id]![v] = layerInfoJson(layers[id]![v]!);
  }
  return JSON.stringify(out);
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)));
}

// ---- readers -----------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function bad(label: string, where: string, why: string): CairnError {
  return new CairnError('INVALID_CONFIG', `label ${label} of ${where}: ${why}`, { hint: 'the image was not made by a buildpacks tool, or is corrupt; recreate it' });
}

function parseLabel(text: string | undefined, label: string, where: string): unknown {
  if (text === undefined) throw new CairnError('NOT_FOUND', `${where} has no ${label} label`, { hint: 'it is not a builder or buildpackage; create one with `cairn builder create` or `cairn buildpack package`' });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw bad(label, where, `not JSON (${(e as Error).message})`);
  }
}

function obj(v: unknown, label: string, where: string, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(label, where, `${path} is not an object`);
  return v as Json;
}

function str(o: Json, key: string, label: string, where: string, path: string, required = true): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw bad(label, where, `${path}.${key} is missing`);
    return undefined;
  }
  if (typeof v !== 'string') throw bad(label, where, `${path}.${key} is not a string`);
  return v;
}

function list(v: unknown, label: string, where: string, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(label, where, `${path} is not a list`);
  return v;
}

function readModuleInfo(v: unknown, label: string, where: string, path: string): ModuleInfo {
  const o = obj(v, label, where, path);
  const m: ModuleInfo = { id: str(o, 'id', label, where, path)!, version: str(o, 'version', label, where, path, false) ?? '' };
  for (const k of ['name', 'description', 'homepage'] as const) {
    const s = str(o, k, label, where, path, false);
    if (s) m[k] = s;
  }
  const keywords = list(o.keywords, label, where, `${path}.keywords`).filter((x): x is string => typeof x === 'string');
  if (keywords.length > 0) m.keywords = keywords;
  return m;
}

function readOrder(v: unknown, label: string, where: string, path: string): Order {
  return list(v, label, where, path).map((g, i) => {
    const go = obj(g, label, where, `${path}[${i}]`);
    return {
      group: list(go.group, label, where, `${path}[${i}].group`).map((r, j) => {
        const p = `${path}[${i}].group[${j}]`;
        const ro = obj(r, label, where, p);
        const version = str(ro, 'version', label, where, p, false);
        return { id: str(ro, 'id', label, where, p)!, ...(version ? { version } : {}), ...(ro.optional === true ? { optional: true } : {}) };
      }),
    };
  });
}

function readStacks(v: unknown, label: string, where: string, path: string): StackInfo[] {
  return list(v, label, where, path).map((s, i) => {
    const so = obj(s, label, where, `${path}[${i}]`);
    const mixins = list(so.mixins, label, where, `${path}[${i}].mixins`).filter((x): x is string => typeof x === 'string');
    return { id: str(so, 'id', label, where, `${path}[${i}]`)!, ...(mixins.length > 0 ? { mixins } : {}) };
  });
}

function readTargets(v: unknown, label: string, where: string, path: string): TargetInfo[] {
  return list(v, label, where, path).map((t, i) => {
    const p = `${path}[${i}]`;
    const to = obj(t, label, where, p);
    const variant = str(to, 'variant', label, where, p, false);
    const distros = list(to.distros, label, where, `${p}.distros`).map((d, j) => {
      const dobj = obj(d, label, where, `${p}.distros[${j}]`);
      const version = str(dobj, 'version', label, where, `${p}.distros[${j}]`, false);
      return { name: str(dobj, 'name', label, where, `${p}.distros[${j}]`)!, ...(version ? { version } : {}) };
    });
    return { os: str(to, 'os', label, where, p, false) ?? '', arch: str(to, 'arch', label, where, p, false) ?? '', ...(variant ? { variant } : {}), ...(distros.length > 0 ? { distros } : {}) };
  });
}

/** Reads `io.buildpacks.buildpack.layers`. */
export function parseBuildpackLayersLabel(text: string | undefined, where: string): BuildpackLayers {
  const label = BUILDPACK_LAYERS_LABEL;
  const root = obj(parseLabel(text, label, where), label, where, '$');
  const out: BuildpackLayers = {};
  for (const [id, versions] of Object.entries(root)) {
    out[id] = {};
    for (const [version, info] of Object.entries(obj(versions, label, where, id))) {
      const p = `${id}.${version}`;
      const io = obj(info, label, where, p);
      const homepage = str(io, 'homepage', label, where, p, false);
      const name = str(io, 'name', label, where, p, false);
      const stacks = readStacks(io.stacks, label, where, `${p}.stacks`);
      const targets = readTargets(io.targets, label, where, `${p}.targets`);
      const order = readOrder(io.order, label, where, `${p}.order`);
      out[id]![version] = {
        api: str(io, 'api', label, where, p, false) ?? '',
        ...(stacks.length > 0 ? { stacks } : {}),
        ...(targets.length > 0 ? { targets } : {}),
        ...(order.length > 0 ? { order } : {}),
        layerDiffID: str(io, 'layerDiffID', label, where, p)!,
        ...(homepage ? { homepage } : {}),
        ...(name ? { name } : {}),
      };
    }
  }
  return out;
}

/** Reads `io.buildpacks.buildpackage.metadata`. */
export function parseBuildpackageMetadataLabel(text: string | undefined, where: string): BuildpackageMetadata {
  const label = BUILDPACKAGE_METADATA_LABEL;
  const v = parseLabel(text, label, where);
  return { ...readModuleInfo(v, label, where, '$'), stacks: readStacks(obj(v, label, where, '$').stacks, label, where, '$.stacks') };
}

/** Reads `io.buildpacks.buildpack.order`. */
export function parseOrderLabel(text: string | undefined, where: string): Order {
  return text === undefined ? [] : readOrder(parseLabel(text, BUILDPACK_ORDER_LABEL, where), BUILDPACK_ORDER_LABEL, where, '$');
}

/** Reads `io.buildpacks.builder.metadata` (pack's and cairn's; missing parts read as empty). */
export function parseBuilderMetadataLabel(text: string | undefined, where: string): BuilderMetadata {
  const label = BUILDER_METADATA_LABEL;
  const root = obj(parseLabel(text, label, where), label, where, '$');
  const runImage = (v: unknown, path: string): RunImageInfo => {
    if (v === undefined || v === null) return { image: '', mirrors: [] };
    const o = obj(v, label, where, path);
    return { image: str(o, 'image', label, where, path, false) ?? '', mirrors: list(o.mirrors, label, where, `${path}.mirrors`).filter((x): x is string => typeof x === 'string') };
  };
  const stack = root.stack === undefined ? {} : obj(root.stack, label, where, '$.stack');
  const lifecycle = root.lifecycle === undefined ? {} : obj(root.lifecycle, label, where, '$.lifecycle');
  const api = lifecycle.api === undefined ? {} : obj(lifecycle.api, label, where, '$.lifecycle.api');
  const apiSet = (v: unknown, path: string): ApiSet => {
    if (v === undefined || v === null) return { deprecated: [], supported: [] };
    const o = obj(v, label, where, path);
    const strings = (x: unknown, p: string) => list(x, label, where, p).filter((s): s is string => typeof s === 'string');
    return { deprecated: strings(o.deprecated, `${path}.deprecated`), supported: strings(o.supported, `${path}.supported`) };
  };
  const apis = lifecycle.apis === undefined ? {} : obj(lifecycle.apis, label, where, '$.lifecycle.apis');
  const createdBy = root.createdBy === undefined ? {} : obj(root.createdBy, label, where, '$.createdBy');
  return {
    description: str(root, 'description', label, where, '$', false) ?? '',
    buildpacks: list(root.buildpacks, label, where, '$.buildpacks').map((b, i) => readModuleInfo(b, label, where, `$.buildpacks[${i}]`)),
    extensions: list(root.extensions, label, where, '$.extensions').map((b, i) => readModuleInfo(b, label, where, `$.extensions[${i}]`)),
    stack: { runImage: runImage(stack.runImage, '$.stack.runImage') },
    lifecycle: {
      version: str(lifecycle, 'version', label, where, '$.lifecycle', false) ?? '',
      api: { buildpack: str(api, 'buildpack', label, where, '$.lifecycle.api', false) ?? '', platform: str(api, 'platform', label, where, '$.lifecycle.api', false) ?? '' },
      apis: { buildpack: apiSet(apis.buildpack, '$.lifecycle.apis.buildpack'), platform: apiSet(apis.platform, '$.lifecycle.apis.platform') },
    },
    createdBy: { name: str(createdBy, 'name', label, where, '$.createdBy', false) ?? '', version: str(createdBy, 'version', label, where, '$.createdBy', false) ?? '' },
    images: list(root.images, label, where, '$.images').map((r, i) => runImage(r, `$.images[${i}]`)),
  };
}
