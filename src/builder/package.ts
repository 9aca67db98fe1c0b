/**
 * A buildpackage from package.toml (distribution spec "Buildpackage"; digest §7.1): an image with no base
 * whose every layer is one buildpack at `/cnb/buildpacks/<escaped id>/<version>/` — the entry buildpack's
 * source first, then the dependencies' — labelled `io.buildpacks.buildpackage.metadata` (the entry
 * buildpack) and `io.buildpacks.buildpack.layers` (all of them). A composite entry buildpack must find every
 * buildpack of its order among them. `created` and every layer mtime are 1980-01-01T00:00:01Z, so the same
 * buildpacks always give the same digest. As an image value it can go to any store, or to a `.cnb` file
 * (an OCI layout in an uncompressed tar: `createOciArchive`).
 */
import { CairnError } from '../oci/errors.js';
import { type Image, makeImage } from '../oci/image.js';
import type { Layer } from '../oci/layer.js';
import { MediaType } from '../oci/media-types.js';
import { DEFAULT_LAYER_MTIME } from '../oci/layer/tar-writer.js';
import { rfc3339 } from '../stack/image/image-config.js';
import { type BuildpackModule, classifyUri, loadBuildpackSource, type SourceContext } from './buildpack-source.js';
import { BUILDPACK_LAYERS_LABEL, BUILDPACKAGE_METADATA_LABEL, type BuildpackageMetadata, type BuildpackLayers, buildpackLayersJson, moduleInfoJson } from './labels.js';
import type { PackageConfig } from './package-toml.js';

export interface PackageOptions {
  config: PackageConfig;
  /** package.toml's name, for messages. */
  configName: string;
  sources: SourceContext;
  /** The image's architecture when package.toml names no target (the CLI passes the host's). */
  defaultArch: string;
}

export interface Buildpackage {
  image: Image;
  entry: BuildpackModule;
  modules: BuildpackModule[];
}

export async function packageBuildpack(opts: PackageOptions): Promise<Buildpackage> {
  const { config } = opts;
  const modules = new Map<string, BuildpackModule>();
  const add = (m: BuildpackModule): void => {
    const key = `${m.info.id}@${m.info.version}`;
    const prev = modules.get(key);
    if (prev && prev.layer.diffID !== m.layer.diffID) {
      throw new CairnError('INVALID_ARGUMENT', `${opts.configName}: buildpack ${key} comes from both ${prev.source} and ${m.source}, with different contents`, { hint: 'package only one of them' });
    }
    if (!prev) modules.set(key, m);
  };
  const load = async (uri: string, what: string) => {
    if ((await classifyUri(uri, opts.sources.baseDir)).kind === 'builder') {
      throw new CairnError('INVALID_ARGUMENT', `${opts.configName}: ${what} ${uri} names a buildpack in a builder, which a buildpackage has none of`, { hint: 'name a folder, a .cnb file or a buildpackage image' });
    }
    return loadBuildpackSource(uri, opts.sources);
  };
  const entrySource = await load(config.buildpack, 'buildpack.uri');
  entrySource.modules.forEach(add);
  for (const [i, dep] of config.dependencies.entries()) (await load(dep, `dependencies[${i}]`)).modules.forEach(add);
  const entry = modules.get(`${entrySource.entry.id}@${entrySource.entry.version}`)!;

  for (const m of modules.values()) {
    for (const g of m.layerInfo.order ?? []) {
      for (const r of g.group) {
        if (!modules.has(`${r.id}@${r.version}`)) {
          throw new CairnError('INVALID_ARGUMENT', `${opts.configName}: composite buildpack ${m.info.id}@${m.info.version} needs ${r.id}@${r.version}, which is not in the package`, {
            hint: `add it to dependencies in ${opts.configName}`,
          });
        }
      }
    }
  }

  const layers: BuildpackLayers = {};
  for (const m of modules.values()) (layers[m.info.id] ??= {})[m.info.version] = { ...m.layerInfo, layerDiffID: m.layer.diffID };
  const metadata: BuildpackageMetadata = { ...moduleInfoJson(entry.info), stacks: entry.layerInfo.stacks ?? [] };
  const target = config.targets[0];
  const created = rfc3339(DEFAULT_LAYER_MTIME);
  const list = [...modules.values()];
  const image = makeImage({
    created,
    architecture: target?.arch ?? opts.defaultArch,
    os: 'linux',
    ...(target?.variant ? { variant: target.variant } : {}),
    config: {
      Labels: {
        [BUILDPACK_LAYERS_LABEL]: buildpackLayersJson(layers),
        [BUILDPACKAGE_METADATA_LABEL]: JSON.stringify(metadata),
      },
    },
    rootfs: { type: 'layers', diff_ids: [] },
    history: list.map((m) => ({ created, created_by: `cairn buildpack package: ${m.info.id}@${m.info.version}` })),
  }, list.map((m) => ociLayer(m.layer)));
  return { image, entry, modules: list };
}

/** The layer under its OCI media type (a buildpackage pulled from a Docker-format image carries Docker types). */
function ociLayer(l: Layer): Layer {
  return l.mediaType === MediaType.DockerLayerGzip ? { ...l, mediaType: MediaType.OciLayerGzip } : l;
}
