/**
 * What `builder inspect` and `buildpack inspect` report, read from an image's config and labels only (no
 * layer is opened): works for builders and buildpackages made by cairn or by pack.
 */
import { CairnError } from '../oci/errors.js';
import type { Image } from '../oci/image.js';
import {
  BUILDER_API_LABEL, BUILDER_METADATA_LABEL, BUILDPACK_LAYERS_LABEL, BUILDPACK_ORDER_LABEL, BUILDPACKAGE_METADATA_LABEL,
  type BuildpackLayerInfo, type LifecycleApis, LIFECYCLE_APIS_LABEL, LIFECYCLE_VERSION_LABEL, type ModuleInfo, type Order,
  parseBuilderMetadataLabel, parseBuildpackageMetadataLabel, parseBuildpackLayersLabel, parseOrderLabel, type RunImageInfo, STACK_ID_LABEL,
  type StackInfo,
} from './labels.js';

/** One buildpack as inspect shows it: its descriptive info and its layer entry. */
export interface BuildpackEntry extends ModuleInfo {
  api: string;
  layerDiffID: string;
  stacks?: StackInfo[];
  targets?: BuildpackLayerInfo['targets'];
  order?: Order;
}

export interface BuilderDescription {
  digest: string;
  description: string;
  createdBy: { name: string; version: string };
  os: string;
  architecture: string;
  stackId?: string;
  builderApi?: string;
  /** The CNB user, from the image's environment. */
  user: { uid?: number; gid?: number };
  runImages: RunImageInfo[];
  lifecycle: { version: string; apis: LifecycleApis };
  buildpacks: BuildpackEntry[];
  order: Order;
}

export interface BuildpackageDescription {
  digest: string;
  os: string;
  architecture: string;
  /** The entry buildpack. */
  id: string;
  version: string;
  /** Every buildpack in the package (the entry one included). */
  buildpacks: BuildpackEntry[];
}

export function describeBuilder(image: Image, where: string): BuilderDescription {
  const labels = image.config.config?.Labels ?? {};
  if (labels[BUILDER_METADATA_LABEL] === undefined) {
    const isPackage = labels[BUILDPACKAGE_METADATA_LABEL] !== undefined;
    throw new CairnError('INVALID_ARGUMENT', `${where} is not a builder (it has no ${BUILDER_METADATA_LABEL} label${isPackage ? '; it is a buildpackage' : ''})`, {
      hint: isPackage ? 'inspect it with `cairn buildpack inspect`' : 'create a builder with `cairn builder create`',
    });
  }
  const md = parseBuilderMetadataLabel(labels[BUILDER_METADATA_LABEL], where);
  const layers = labels[BUILDPACK_LAYERS_LABEL] ? parseBuildpackLayersLabel(labels[BUILDPACK_LAYERS_LABEL], where) : {};
  let apis = md.lifecycle.apis;
  if (labels[LIFECYCLE_APIS_LABEL]) {
    // The lifecycle's own label wins over the copy in the builder metadata (pack reads it first too).
    const fromLabel = parseBuilderMetadataLabel(JSON.stringify({ lifecycle: { apis: safeJson(labels[LIFECYCLE_APIS_LABEL], LIFECYCLE_APIS_LABEL, where) } }), where).lifecycle.apis;
    if (fromLabel.buildpack.supported.length + fromLabel.platform.supported.length > 0) apis = fromLabel;
  }
  const env = Object.fromEntries((image.config.config?.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const runImages = md.images.length > 0 ? md.images : md.stack.runImage.image ? [md.stack.runImage] : [];
  const uid = num(env.CNB_USER_ID);
  const gid = num(env.CNB_GROUP_ID);
  return {
    digest: image.digest,
    description: md.description,
    createdBy: md.createdBy,
    os: image.config.os,
    architecture: image.config.architecture,
    ...(labels[STACK_ID_LABEL] ? { stackId: labels[STACK_ID_LABEL] } : {}),
    ...(labels[BUILDER_API_LABEL] ? { builderApi: labels[BUILDER_API_LABEL] } : {}),
    user: { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) },
    runImages,
    lifecycle: { version: labels[LIFECYCLE_VERSION_LABEL] ?? md.lifecycle.version, apis },
    buildpacks: entries(md.buildpacks, layers),
    order: parseOrderLabel(labels[BUILDPACK_ORDER_LABEL], where),
  };
}

export function describeBuildpackage(image: Image, where: string): BuildpackageDescription {
  const labels = image.config.config?.Labels ?? {};
  if (labels[BUILDPACKAGE_METADATA_LABEL] === undefined) {
    const isBuilder = labels[BUILDER_METADATA_LABEL] !== undefined;
    throw new CairnError('INVALID_ARGUMENT', `${where} is not a buildpackage (it has no ${BUILDPACKAGE_METADATA_LABEL} label${isBuilder ? '; it is a builder' : ''})`, {
      hint: isBuilder ? 'inspect it with `cairn builder inspect`' : 'package a buildpack with `cairn buildpack package`',
    });
  }
  const meta = parseBuildpackageMetadataLabel(labels[BUILDPACKAGE_METADATA_LABEL], where);
  const layers = parseBuildpackLayersLabel(labels[BUILDPACK_LAYERS_LABEL], where);
  const infos: ModuleInfo[] = [meta];
  for (const id of Object.keys(layers).sort()) for (const version of Object.keys(layers[id]!).sort()) if (id !== meta.id || version !== meta.version) infos.push({ id, version });
  return { digest: image.digest, os: image.config.os, architecture: image.config.architecture, id: meta.id, version: meta.version, buildpacks: entries(infos, layers) };
}

/** Descriptive infos joined with their layer entries (a buildpack listed without a layer shows empty api/diffID). */
function entries(infos: readonly ModuleInfo[], layers: Record<string, Record<string, BuildpackLayerInfo>>): BuildpackEntry[] {
  return infos.map((i) => {
    const l = layers[i.id]?.[i.version];
    const { stacks: _s, ...info } = i as ModuleInfo & { stacks?: unknown };
    return {
      ...info,
      ...(l?.name && !info.name ? { name: l.name } : {}),
      ...(l?.homepage && !info.homepage ? { homepage: l.homepage } : {}),
      api: l?.api ?? '',
      layerDiffID: l?.layerDiffID ?? '',
      ...(l?.stacks ? { stacks: l.stacks } : {}),
      ...(l?.targets ? { targets: l.targets } : {}),
      ...(l?.order ? { order: l.order } : {}),
    };
  });
}

function safeJson(text: string, label: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CairnError('INVALID_CONFIG', `label ${label} of ${where}: not JSON (${(e as Error).message})`, { hint: 'the image is corrupt; recreate it' });
  }
}
