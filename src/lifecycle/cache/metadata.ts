/**
 * The cache metadata document (digest §5.5): lenient parsing of untrusted JSON (a cache may have been
 * damaged, or written by another tool) and deterministic serialisation.
 *
 * Parsing never throws: a document that is not JSON, too large or too deep, or not shaped like cache
 * metadata is dropped whole with a warning; a single bad buildpack or layer entry is dropped with a warning
 * and the rest kept. Layer names become folder names under `<layers>/<buildpack>/` when restored, so a name
 * that is not one plain path component (`..`, `a/b`, NUL) is refused here.
 */
import { type Digest, isDigest } from '../../oci/digest.js';
import { messageOf } from '../../oci/errors.js';
import type { Fields } from '../files/fields.js';
import { canonical } from '../files/toml.js';
import { labelJson, parseJsonLabel } from '../labels/json.js';
import { type CachedLayerMetadata, type CacheMetadata, emptyCacheMetadata, type Warn } from './cache.js';

/** Parses a metadata document; `where` names it in warnings (e.g. `cache dir /x`). */
export function parseCacheMetadata(text: string, where: string, warn: Warn): CacheMetadata {
  let doc: Fields;
  let buildpacks: Fields[];
  try {
    doc = parseJsonLabel(text, 'io.buildpacks.lifecycle.cache.metadata');
    buildpacks = doc.tables('buildpacks');
  } catch (e) {
    warn(`${where}: ignoring its metadata, the build runs without cache: ${messageOf(e)}`);
    return emptyCacheMetadata();
  }
  const md = emptyCacheMetadata();
  for (const bp of buildpacks) {
    const entry = entryOf(bp, where, warn);
    if (entry) md.buildpacks.push(entry);
  }
  try {
    const sha = doc.table('sbom')?.string('sha');
    if (sha !== undefined && sha !== '') {
      if (isDigest(sha)) md.sbom = { sha };
      else warn(`${where}: ignoring its cached SBOM layer: "${sha}" is not a sha256 diffID`);
    }
  } catch (e) {
    warn(`${where}: ignoring its cached SBOM layer: ${messageOf(e)}`);
  }
  return md;
}

function entryOf(bp: Fields, where: string, warn: Warn): CacheMetadata['buildpacks'][number] | undefined {
  let key: string;
  let version: string;
  let layers: Fields | undefined;
  try {
    key = bp.requiredString('key');
    version = bp.string('version') ?? '';
    layers = bp.table('layers');
  } catch (e) {
    warn(`${where}: ignoring a buildpack entry of its metadata: ${messageOf(e)}`);
    return undefined;
  }
  const out: Record<string, CachedLayerMetadata> = {};
  for (const name of Object.keys(layers?.raw ?? {}).sort()) {
    try {
      if (!isLayerName(name)) throw new Error(`"${name}" is not a valid layer name`);
      const l = layers!.table(name);
      if (!l) continue;
      const sha = l.string('sha') ?? '';
      if (!isDigest(sha)) throw new Error(`sha "${sha}" is not a sha256 diffID`);
      out[name] = { sha, data: l.freeform('data') ?? {}, build: l.boolean('build') ?? false, launch: l.boolean('launch') ?? false, cache: l.boolean('cache') ?? false };
    } catch (e) {
      warn(`${where}: ignoring cached layer "${name}" of ${key}: ${messageOf(e)}`);
    }
  }
  return { key, version, layers: out };
}

/** One plain path component: not empty, `.` or `..`, no `/`, `\` or NUL. */
function isLayerName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/** Compact JSON; layers by name, free-form data with sorted keys: equal metadata gives equal bytes. */
export function serializeCacheMetadata(md: CacheMetadata): string {
  return labelJson({
    buildpacks: md.buildpacks.map((b) => ({
      key: b.key,
      version: b.version,
      layers: Object.fromEntries(
        Object.keys(b.layers)
          .sort()
          .map((name) => {
            const l = b.layers[name]!;
            return [name, { sha: l.sha, data: canonical(l.data), build: l.build, launch: l.launch, cache: l.cache }];
          }),
      ),
    })),
    sbom: md.sbom ? { sha: md.sbom.sha } : undefined,
  });
}

/** Every diffID the metadata refers to (layers and SBOM), without duplicates. */
export function referencedDiffIDs(md: CacheMetadata): Digest[] {
  const all = md.buildpacks.flatMap((b) => Object.values(b.layers).map((l) => l.sha));
  if (md.sbom) all.push(md.sbom.sha);
  return [...new Set(all)];
}
