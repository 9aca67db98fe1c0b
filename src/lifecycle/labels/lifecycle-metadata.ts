/**
 * `io.buildpacks.lifecycle.metadata` (digest §5.3, platform spec) and its TOML form, the `[metadata]` table of
 * analyzed.toml (digest §4.2). Identity of every layer is its diffID.
 *
 * JSON keys follow the reference exporter: `app`, `sbom`, `buildpacks` (`key`, `version`, `layers` with
 * `sha`/`data`/`build`/`launch`/`cache`, `store`), `config`, `launcher`, `process-types`, `runImage`
 * (`topLayer`, `reference`, `image`, `mirrors`), deprecated `stack.runImage`; plus the spec's `exec-env`.
 * TOML keys differ where the reference's TOML tags do: `metadata` for layer data, `run-image`, `top-layer`.
 * Read `runImage` first and fall back to `stack.runImage` (`runImageOf`).
 */
import type { Fields } from '../files/fields.js';
import { canonical, type TomlTable } from '../files/toml.js';
import { labelJson, parseJsonLabel } from './json.js';
import { LIFECYCLE_METADATA_LABEL } from './names.js';

export interface LayerSha {
  sha: string;
}

export interface LayerMetadata {
  sha: string;
  /** The layer.toml `[metadata]`. */
  data: Record<string, unknown>;
  build: boolean;
  launch: boolean;
  cache: boolean;
}

export interface BuildpackLayersMetadata {
  /** Buildpack ID. */
  key: string;
  version: string;
  /** By layer name. */
  layers: Record<string, LayerMetadata>;
  /** store.toml `[metadata]`. */
  store?: { metadata: Record<string, unknown> };
}

export interface RunImageRef {
  image?: string;
  mirrors?: string[];
}

export interface RunImageForRebase extends RunImageRef {
  /** diffID of the run image's top layer: app layers start above it. */
  topLayer: string;
  /** Digest reference or image ID of the run image. */
  reference: string;
}

export interface LifecycleMetadata {
  /** One per app slice layer, then the remainder layer. */
  app: LayerSha[];
  sbom?: LayerSha;
  buildpacks: BuildpackLayersMetadata[];
  config: LayerSha;
  launcher: LayerSha;
  processTypes: LayerSha;
  runImage: RunImageForRebase;
  /** Deprecated (Platform 0.12) copy of runImage's image + mirrors. */
  stack?: { runImage: RunImageRef };
  /** `CNB_EXEC_ENV` of the build (spec key; the reference writes a separate label instead). */
  execEnv?: string;
}

export function emptyLifecycleMetadata(): LifecycleMetadata {
  return {
    app: [],
    buildpacks: [],
    config: { sha: '' },
    launcher: { sha: '' },
    processTypes: { sha: '' },
    runImage: { topLayer: '', reference: '' },
  };
}

/** The run image recorded in the metadata: `runImage`, else the deprecated `stack.runImage`. */
export function runImageOf(md: LifecycleMetadata): RunImageRef {
  if (md.runImage.image) return { image: md.runImage.image, mirrors: md.runImage.mirrors ?? [] };
  return { image: md.stack?.runImage.image, mirrors: md.stack?.runImage.mirrors ?? [] };
}

/** The previous build's layers of one buildpack, if it had any. */
export function layersMetadataFor(md: LifecycleMetadata, id: string): BuildpackLayersMetadata | undefined {
  return md.buildpacks.find((b) => b.key === id);
}

/** Which codec: the JSON label or analyzed.toml's TOML table. */
type Form = 'json' | 'toml';

const KEYS = {
  json: { data: 'data', runImage: 'runImage', topLayer: 'topLayer' },
  toml: { data: 'metadata', runImage: 'run-image', topLayer: 'top-layer' },
} as const;

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]!]));
}

function isTableValue(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function shaOf(f: Fields | undefined): LayerSha {
  return { sha: f?.string('sha') ?? '' };
}

function readRunImageRef(f: Fields): RunImageRef {
  return { image: f.string('image') || undefined, mirrors: f.strings('mirrors') };
}

function read(f: Fields, form: Form): LifecycleMetadata {
  const k = KEYS[form];
  const sbom = f.table('sbom');
  const run = f.table(k.runImage);
  const stackRun = f.table('stack')?.table(k.runImage);
  return {
    // Old lifecycles wrote `app` as one `{sha}` object (reference `LayersMetadataCompat`).
    app: isTableValue(f.raw.app) ? [shaOf(f.table('app'))] : f.tables('app').map((a) => shaOf(a)),
    sbom: sbom ? shaOf(sbom) : undefined,
    buildpacks: f.tables('buildpacks').map((b) => {
      const layers = b.table('layers');
      const store = b.table('store');
      return {
        key: b.requiredString('key'),
        version: b.string('version') ?? '',
        layers: Object.fromEntries(
          Object.keys(layers?.raw ?? {})
            .sort()
            .flatMap((name): [string, LayerMetadata][] => {
              const l = layers?.table(name);
              if (!l) return [];
              const layer = { sha: l.string('sha') ?? '', data: l.freeform(k.data) ?? {}, build: l.boolean('build') ?? false, launch: l.boolean('launch') ?? false, cache: l.boolean('cache') ?? false };
              return [[name, layer]];
            }),
        ),
        store: store ? { metadata: store.freeform('metadata') ?? {} } : undefined,
      };
    }),
    config: shaOf(f.table('config')),
    launcher: shaOf(f.table('launcher')),
    processTypes: shaOf(f.table('process-types')),
    runImage: { topLayer: run?.string(k.topLayer) ?? '', reference: run?.string('reference') ?? '', ...(run ? readRunImageRef(run) : {}) },
    stack: stackRun ? { runImage: readRunImageRef(stackRun) } : undefined,
    execEnv: f.string('exec-env') || undefined,
  };
}

function write(md: LifecycleMetadata, form: Form): TomlTable {
  const k = KEYS[form];
  const ref = (r: RunImageRef) => ({ image: r.image || undefined, mirrors: r.mirrors && r.mirrors.length > 0 ? r.mirrors : undefined });
  return {
    app: md.app.map((a) => ({ sha: a.sha })),
    sbom: md.sbom ? { sha: md.sbom.sha } : undefined,
    buildpacks: md.buildpacks.map((b) => ({
      key: b.key,
      version: b.version,
      layers: sortedRecord(
        Object.fromEntries(
          Object.entries(b.layers).map(([name, l]) => [name, { sha: l.sha, [k.data]: canonical(l.data), build: l.build, launch: l.launch, cache: l.cache }]),
        ),
      ),
      store: b.store ? { metadata: canonical(b.store.metadata) } : undefined,
    })),
    config: { sha: md.config.sha },
    launcher: { sha: md.launcher.sha },
    'process-types': { sha: md.processTypes.sha },
    [k.runImage]: { [k.topLayer]: md.runImage.topLayer, reference: md.runImage.reference, ...ref(md.runImage) },
    stack: md.stack ? { [k.runImage]: ref(md.stack.runImage) } : undefined,
    'exec-env': md.execEnv || undefined,
  };
}

/** The label value (compact JSON, fixed key order, layers by name). */
export function lifecycleMetadataLabel(md: LifecycleMetadata): string {
  return labelJson(write(md, 'json'));
}

/** Parses the label of a previous image (untrusted). */
export function parseLifecycleMetadataLabel(json: string): LifecycleMetadata {
  return read(parseJsonLabel(json, LIFECYCLE_METADATA_LABEL), 'json');
}

/** The TOML table form (analyzed.toml `[metadata]`). */
export function lifecycleMetadataToToml(md: LifecycleMetadata): TomlTable {
  return write(md, 'toml');
}

export function readLifecycleMetadataToml(f: Fields): LifecycleMetadata {
  return read(f, 'toml');
}
