/**
 * A builder image from builder.toml (digest §7.2; builder extension spec; pack `internal/builder`): the
 * build image, then
 *
 * 1. a folders layer: `/workspace` and `/layers` owned by the CNB user, `/cnb`, `/cnb/buildpacks`,
 *    `/cnb/extensions`, `/platform`, `/platform/env`, `/cnb/build-config`, `/cnb/build-config/env`
 *    root-owned, all 0755;
 * 2. the lifecycle layer: `/cnb/lifecycle/launcher` (and pack's `/lifecycle` → `/cnb/lifecycle` link), and with a
 *    node runtime the phases `/cnb/lifecycle/{analyzer,detector,restorer,builder,exporter,creator}`;
 *    then one layer per runtime the buildpacks run on, at `/cnb/runtime/<name>/` (cairn's Node.js
 *    buildpacks run their bundles with `/cnb/runtime/node/bin/node`; it never reaches an app image);
 * 3. one layer per buildpack at `/cnb/buildpacks/<escaped id>/<version>/` (a buildpackage's layers are
 *    reused as they are);
 * 4. a layer with `/cnb/order.toml`, `/cnb/run.toml`, `/cnb/stack.toml` (platforms before 0.12),
 *    `/cnb/system.toml` when `[system]` names buildpacks, and the `/cnb/build-config/env/` files;
 *
 * with the labels `io.buildpacks.builder.metadata`, `.builder.api`, `.buildpack.order`, `.buildpack.layers`
 * (`.buildpack.system`), `.lifecycle.version`, `.lifecycle.apis` in pack's shapes (labels.ts),
 * `WorkingDir=/layers`, and `CNB_APP_DIR`, `CNB_LAYERS_DIR`, `CNB_PLATFORM_DIR` added to the build image's
 * environment (builder extension spec). The image is a value; nothing is written to a store here.
 *
 * Checks, each an error naming the culprit: the build image declares its CNB user; `[stack] id` matches
 * the build image's; every buildpack's API is one cairn's lifecycle speaks; a buildpack given twice with
 * different contents is replaced (a warning, as pack); composite buildpacks find their components; every
 * order entry names a buildpack of the builder (a missing version is filled in when only one is there).
 */
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { CairnError } from '../oci/errors.js';
import type { Image } from '../oci/image.js';
import { fileLayer, type Layer } from '../oci/layer.js';
import { type LayerSource, writeLayer } from '../oci/layer/tar-writer.js';
import { appendLayers, setConfig } from '../oci/mutate.js';
import type { ContainerConfig } from '../oci/spec.js';
import { formatApiVersion, isSupported, parseApiVersion, SUPPORTED_BUILDPACK_APIS } from '../lifecycle/api.js';
import type { ModuleRef, OrderGroup } from '../lifecycle/files/module-ref.js';
import { serializeOrderToml } from '../lifecycle/files/order-toml.js';
import { serializeRunToml, serializeStackToml } from '../lifecycle/files/run-toml.js';
import { serializeSystemToml } from '../lifecycle/files/system-toml.js';
import type { BuilderConfig, OrderEntryConfig } from './builder-toml.js';
import { type BuildpackModule, classifyUri, loadBuildpackSource, type SourceContext } from './buildpack-source.js';
import {
  BUILDER_API, BUILDER_API_LABEL, BUILDER_METADATA_LABEL, type BuilderMetadata, BUILDPACK_LAYERS_LABEL, BUILDPACK_ORDER_LABEL,
  BUILDPACK_SYSTEM_LABEL, type BuildpackLayers, buildpackLayersJson, lifecycleApis, LIFECYCLE_APIS_LABEL, LIFECYCLE_VERSION_LABEL,
  type ModuleInfo, moduleInfoJson, type Order, orderJson, type OrderRef, parseBuilderMetadataLabel, parseBuildpackLayersLabel, STACK_ID_LABEL,
} from './labels.js';

export interface CreateBuilderOptions {
  config: BuilderConfig;
  /** builder.toml's name, for messages. */
  configName: string;
  buildImage: Image;
  /** Gives the host path of the launcher binary (`launcherFor`); called once the config is known to be valid. */
  launcher: () => Promise<string>;
  /** cairn's version: the lifecycle's and the creator's. */
  version: string;
  /**
   * cairn's CLI bundle (dist/cairn.mjs). With a `node` runtime it goes to `/cnb/lifecycle/cairn.mjs`, and
   * `/cnb/lifecycle/<phase>` run it: the lifecycle's phase executables, for platforms that run the build inside
   * the builder image (Tekton, kpack).
   */
  lifecycleBundle?: string;
  /** Folders to carry at `/cnb/runtime/<name>/` (e.g. node: a folder holding `bin/node`). */
  runtimes?: { name: string; dir: string }[];
  sources: SourceContext;
  warn?: (message: string) => void;
}

export interface CreatedBuilder {
  image: Image;
  /** The buildpacks added, in layer order. */
  buildpacks: BuildpackModule[];
  /** The resolved detection order (every version filled in). */
  order: Order;
}

const FOLDERS_UID_OWNED = ['workspace', 'layers'];
const FOLDERS_ROOT_OWNED = ['cnb', 'cnb/buildpacks', 'cnb/extensions', 'platform', 'platform/env', 'cnb/build-config', 'cnb/build-config/env'];

export async function createBuilder(opts: CreateBuilderOptions): Promise<CreatedBuilder> {
  const { config, buildImage } = opts;
  const warn = opts.warn ?? (() => undefined);
  const cc = buildImage.config.config ?? {};
  const env = envMap(cc.Env ?? []);
  const { uid, gid } = cnbUser(buildImage);
  const labels = cc.Labels ?? {};
  const imageStack = labels[STACK_ID_LABEL];
  if (config.stackId && imageStack && config.stackId !== imageStack) {
    throw new CairnError('INVALID_ARGUMENT', `${opts.configName}: stack.id "${config.stackId}" does not match the build image's stack id "${imageStack}"`, {
      hint: 'remove [stack] id, or use the build image of that stack',
    });
  }
  for (const r of opts.runtimes ?? []) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(r.name)) throw new CairnError('INVALID_ARGUMENT', `runtime name "${r.name}" is not a folder name (a-z, 0-9, . _ -)`, { hint: 'write --runtime node=DIR' });
  }
  // A build image that is itself a builder keeps its buildpacks.
  const existing: BuildpackLayers = labels[BUILDPACK_LAYERS_LABEL] ? parseBuildpackLayersLabel(labels[BUILDPACK_LAYERS_LABEL], 'the build image') : {};
  const existingInfos: ModuleInfo[] = labels[BUILDER_METADATA_LABEL] ? parseBuilderMetadataLabel(labels[BUILDER_METADATA_LABEL], 'the build image').buildpacks : [];

  const added = new Map<string, BuildpackModule>();
  const references: { id: string; version?: string; where: string }[] = [];
  for (const [i, m] of config.buildpacks.entries()) {
    const where = `${opts.configName}: buildpacks[${i}]`;
    const uri = m.uri ?? (m.image ? `docker://${m.image}` : `urn:cnb:builder:${m.id!}${m.version ? '@' + m.version : ''}`);
    const c = await classifyUri(uri, opts.sources.baseDir);
    if (c.kind === 'builder') {
      references.push({ id: c.id, ...(c.version ? { version: c.version } : {}), where });
      continue;
    }
    const loaded = await loadBuildpackSource(uri, opts.sources);
    if (m.id && (m.id !== loaded.entry.id || (m.version && m.version !== loaded.entry.version))) {
      throw new CairnError('INVALID_ARGUMENT', `${where}: ${uri} holds buildpack ${loaded.entry.id}@${loaded.entry.version}, not ${m.id}${m.version ? '@' + m.version : ''}`, {
        hint: 'fix the id/version of the entry, or its uri',
      });
    }
    for (const mod of loaded.modules) addModule(added, existing, mod, warn);
  }

  const available = new Map<string, Set<string>>();
  const note = (id: string, version: string): void => void (available.get(id) ?? available.set(id, new Set()).get(id)!).add(version);
  for (const [id, versions] of Object.entries(existing)) for (const v of Object.keys(versions)) note(id, v);
  for (const m of added.values()) note(m.info.id, m.info.version);
  const has = (id: string, version?: string): boolean => available.has(id) && (version === undefined || available.get(id)!.has(version));

  for (const r of references) {
    if (!has(r.id, r.version)) {
      throw new CairnError('INVALID_ARGUMENT', `${r.where}: buildpack ${r.id}${r.version ? '@' + r.version : ''} is not in the builder`, {
        hint: 'add it with a uri (a folder, a .cnb file or a buildpackage image)',
      });
    }
  }
  for (const m of added.values()) {
    const api = m.layerInfo.api;
    let ok = false;
    try {
      ok = isSupported(SUPPORTED_BUILDPACK_APIS, parseApiVersion(api));
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new CairnError('INVALID_ARGUMENT', `buildpack ${m.info.id}@${m.info.version} (from ${m.source}) uses Buildpack API ${api || '(none)'}, which cairn's lifecycle does not support (it supports ${SUPPORTED_BUILDPACK_APIS.map(formatApiVersion).join(', ')})`, {
        hint: 'use a version of the buildpack written for a supported Buildpack API',
      });
    }
    for (const g of m.layerInfo.order ?? []) {
      for (const r of g.group) {
        if (!has(r.id, r.version)) {
          throw new CairnError('INVALID_ARGUMENT', `composite buildpack ${m.info.id}@${m.info.version} (from ${m.source}) needs ${r.id}@${r.version ?? '*'}, which is not in the builder`, {
            hint: `add ${r.id} to [[buildpacks]] of ${opts.configName}`,
          });
        }
      }
    }
  }

  const resolve = (e: OrderEntryConfig, where: string): OrderRef => {
    const versions = [...(available.get(e.id) ?? [])].sort();
    if (versions.length === 0) throw new CairnError('INVALID_ARGUMENT', `${opts.configName}: ${where} names buildpack ${e.id}, which is not in the builder`, { hint: 'add it to [[buildpacks]] (with a uri), or fix the id' });
    let version = e.version;
    if (version === undefined) {
      if (versions.length > 1) throw new CairnError('INVALID_ARGUMENT', `${opts.configName}: ${where}: the builder has several versions of ${e.id} (${versions.join(', ')})`, { hint: 'name the version in the order entry' });
      version = versions[0]!;
    } else if (!versions.includes(version)) {
      throw new CairnError('INVALID_ARGUMENT', `${opts.configName}: ${where} names ${e.id}@${version}, but the builder has ${e.id} ${versions.join(', ')}`, { hint: 'fix the version, or add that version to [[buildpacks]]' });
    }
    return { id: e.id, version, ...(e.optional ? { optional: true } : {}) };
  };
  const order: Order = config.order.map((g, i) => ({ group: g.group.map((e, j) => resolve(e, `order[${i}].group[${j}]`)) }));
  if (order.length === 0) warn(`${opts.configName} has no [[order]]: the builder will detect nothing`);
  const system = { pre: config.system.pre.map((e, i) => resolve(e, `system.pre.buildpacks[${i}]`)), post: config.system.post.map((e, i) => resolve(e, `system.post.buildpacks[${i}]`)) };

  // Layers.
  const work = await mkdtemp(join(opts.sources.workDir, 'builder-'));
  const layer = async (name: string, sources: LayerSource[]): Promise<Layer> => {
    const path = join(work, `${name}.tar.gz`);
    return fileLayer(path, await writeLayer(sources, path));
  };
  const folders = await layer('folders', [
    ...FOLDERS_UID_OWNED.map((path): LayerSource => ({ type: 'dir', path, uid, gid })),
    ...FOLDERS_ROOT_OWNED.map((path): LayerSource => ({ type: 'dir', path })),
  ]);
  const phases = opts.lifecycleBundle && opts.runtimes?.some((r) => r.name === 'node') ? opts.lifecycleBundle : undefined;
  const lifecycle = await layer('lifecycle', [
    { type: 'dir', path: 'cnb/lifecycle' },
    { type: 'file', path: 'cnb/lifecycle/launcher', source: await opts.launcher() },
    { type: 'symlink', path: 'lifecycle', target: '/cnb/lifecycle' },
    ...(phases ? phaseExecutables(phases) : []),
  ]);
  const runtimes: Layer[] = [];
  for (const r of opts.runtimes ?? []) runtimes.push(await layer(`runtime-${r.name}`, [{ type: 'tree', source: r.dir, path: `cnb/runtime/${r.name}` }]));
  const runImages = config.runImages.map((r) => ({ image: r.image, mirrors: [...r.mirrors] }));
  const files: LayerSource[] = [
    { type: 'file', path: 'cnb/order.toml', data: serializeOrderToml({ order: order.map(toOrderGroup), orderExtensions: [] }) },
    { type: 'file', path: 'cnb/run.toml', data: serializeRunToml({ images: runImages }) },
    { type: 'file', path: 'cnb/stack.toml', data: serializeStackToml({ runImage: runImages[0]! }) },
    ...(system.pre.length + system.post.length > 0 ? [{ type: 'file' as const, path: 'cnb/system.toml', data: serializeSystemToml({ pre: system.pre.map(toModuleRef), post: system.post.map(toModuleRef) }) }] : []),
    ...config.buildEnv.map((f): LayerSource => ({ type: 'file', path: `cnb/build-config/env/${f.name}`, data: f.value })),
  ];
  const configLayer = await layer('config', files);
  const modules = [...added.values()];
  const created = buildImage.config.created;
  const history = (created_by: string) => ({ ...(created ? { created } : {}), created_by });
  let image = appendLayers(buildImage, [
    { layer: folders, history: history('cairn builder create: /workspace, /layers, /cnb, /platform') },
    { layer: lifecycle, history: history(`cairn builder create: lifecycle ${opts.version} (launcher${phases ? ', phases' : ''})`) },
    ...runtimes.map((l, i) => ({ layer: l, history: history(`cairn builder create: runtime ${opts.runtimes![i]!.name} at /cnb/runtime/${opts.runtimes![i]!.name}`) })),
    ...modules.map((m) => ({ layer: m.layer, history: history(`cairn builder create: buildpack ${m.info.id}@${m.info.version}`) })),
    { layer: configLayer, history: history('cairn builder create: order.toml, run.toml, stack.toml, build-config') },
  ]);

  // Labels and runtime config.
  const layersLabel: BuildpackLayers = structuredClone(existing);
  for (const m of modules) (layersLabel[m.info.id] ??= {})[m.info.version] = { ...m.layerInfo, layerDiffID: m.layer.diffID };
  const infos = dedupeInfos([...existingInfos, ...modules.map((m) => m.info)]);
  const apis = lifecycleApis();
  const metadata: BuilderMetadata = {
    description: config.description,
    buildpacks: infos.map(moduleInfoJson),
    extensions: [],
    stack: { runImage: runImages[0]! },
    lifecycle: { version: opts.version, api: { buildpack: apis.buildpack.supported[0]!, platform: apis.platform.supported[0]! }, apis },
    createdBy: { name: 'cairn', version: opts.version },
    images: runImages,
  };
  const newLabels: Record<string, string> = {
    ...labels,
    [BUILDER_METADATA_LABEL]: JSON.stringify(metadata),
    [BUILDER_API_LABEL]: BUILDER_API,
    [BUILDPACK_ORDER_LABEL]: JSON.stringify(orderJson(order)),
    [BUILDPACK_LAYERS_LABEL]: buildpackLayersJson(layersLabel),
    [LIFECYCLE_VERSION_LABEL]: opts.version,
    [LIFECYCLE_APIS_LABEL]: JSON.stringify(apis),
    ...(config.stackId && !imageStack ? { [STACK_ID_LABEL]: config.stackId } : {}),
  };
  if (system.pre.length + system.post.length > 0) {
    newLabels[BUILDPACK_SYSTEM_LABEL] = JSON.stringify({ ...(system.pre.length ? { pre: { buildpacks: orderJson([{ group: system.pre }])[0]!.group } } : {}), ...(system.post.length ? { post: { buildpacks: orderJson([{ group: system.post }])[0]!.group } } : {}) });
  }
  const newEnv = { ...env, CNB_APP_DIR: '/workspace', CNB_LAYERS_DIR: '/layers', CNB_PLATFORM_DIR: '/platform' };
  const container: ContainerConfig = {
    ...structuredClone(image.config.config ?? {}),
    Env: Object.entries(newEnv).map(([k, v]) => `${k}=${v}`),
    WorkingDir: '/layers',
    Labels: Object.fromEntries(Object.entries(newLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  image = setConfig(image, { ...structuredClone(image.config), config: container });
  return { image, buildpacks: modules, order };
}

/** Adds a module unless the same id@version with the same layer is there; a different one replaces it (pack's rule). */
function addModule(added: Map<string, BuildpackModule>, existing: BuildpackLayers, m: BuildpackModule, warn: (message: string) => void): void {
  const key = `${m.info.id}@${m.info.version}`;
  const inImage = existing[m.info.id]?.[m.info.version];
  if (inImage) {
    if (inImage.layerDiffID === m.layer.diffID) return;
    throw new CairnError('UNSUPPORTED', `buildpack ${key} from ${m.source} differs from the one already in the build image`, { hint: 'give it another version, or start from a build image without it' });
  }
  const prev = added.get(key);
  if (prev) {
    if (prev.layer.diffID === m.layer.diffID) return;
    warn(`buildpack ${key} from ${m.source} replaces the one from ${prev.source} (their contents differ)`);
    added.delete(key);
  }
  added.set(key, m);
}

function dedupeInfos(infos: ModuleInfo[]): ModuleInfo[] {
  const seen = new Map<string, ModuleInfo>();
  for (const i of infos) seen.set(`${i.id}@${i.version}`, i);
  return [...seen.values()];
}

function toModuleRef(r: OrderRef): ModuleRef {
  return { id: r.id, version: r.version!, optional: r.optional === true, execEnv: [] };
}

function toOrderGroup(g: { group: OrderRef[] }): OrderGroup {
  return { group: g.group.map(toModuleRef) };
}

/** The CNB user a build image declares (`CNB_USER_ID`, `CNB_GROUP_ID`); INVALID_ARGUMENT when it declares none. */
export function cnbUser(buildImage: Image): { uid: number; gid: number } {
  const env = envMap(buildImage.config.config?.Env ?? []);
  return { uid: idFrom(env, 'CNB_USER_ID'), gid: idFrom(env, 'CNB_GROUP_ID') };
}

function envMap(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

function idFrom(env: Record<string, string>, name: string): number {
  const v = env[name];
  const n = Number(v);
  if (v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new CairnError('INVALID_ARGUMENT', `the build image sets no valid ${name} in its environment (${v === undefined ? 'missing' : JSON.stringify(v)}): it is not a CNB build image`, {
      hint: 'use a build image made by `cairn stack create`, or one that declares its CNB user',
    });
  }
  return n;
}

/** The Platform API's phase executables, each a script running cairn's lifecycle with the builder's Node.js. */
const PHASES = ['analyzer', 'detector', 'restorer', 'builder', 'exporter', 'creator'] as const;

/** Runs the bundled CLI (which only exports `run`) with the process's arguments, environment and clock. */
const ENTRY = `// cairn's lifecycle in a builder: /cnb/lifecycle/<phase> runs \`node main.mjs lifecycle <phase> ARGS\`.
import { run } from './cairn.mjs';
process.exitCode = await run(process.argv.slice(2), { env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, now: () => new Date() });
`;

function phaseExecutables(bundle: string): LayerSource[] {
  return [
    { type: 'file', path: 'cnb/lifecycle/cairn.mjs', source: bundle },
    { type: 'file', path: 'cnb/lifecycle/main.mjs', data: ENTRY },
    ...PHASES.map((phase): LayerSource => ({
      type: 'file',
      path: `cnb/lifecycle/${phase}`,
      executable: true,
      data: `#!/bin/sh\n# cairn's lifecycle, ${phase} phase (Platform API), on the Node.js this builder carries.\nexec /cnb/runtime/node/bin/node /cnb/lifecycle/main.mjs lifecycle ${phase} "$@"\n`,
    })),
  ];
}
