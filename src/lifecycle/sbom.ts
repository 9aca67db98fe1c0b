/**
 * SBOM files (digest §2.9, buildpack spec "Software-Bill-of-Materials", reference `buildpack/bomfile.go`,
 * `phase/builder.go copySBOMFiles`, `internal/layer/sbom_restorer.go`).
 *
 * A buildpack writes `<layers>/<bp>/<layer>.sbom.<ext>`, `launch.sbom.<ext>` or `build.sbom.<ext>`, where
 * `<ext>` is `cdx.json`, `spdx.json` or `syft.json`. Files matching `*.sbom.*.json` are considered; the layer
 * is the name before the first `.`; a layer SBOM whose layer has no `<layer>.toml` is ignored. An unknown
 * extension, or a media type not in the buildpack's `sbom-formats`, fails the build. After all buildpacks the
 * builder copies them under `<layers>/sbom/{launch,build,cache}/<escaped-bp>/[<layer>/]sbom.<ext>`; the
 * restorer maps `sbom/{cache,launch}/<bp>/<layer>/sbom.<ext>` back to `<bp>/<layer>.sbom.<ext>` (cache first,
 * then launch) for buildpacks of the group whose layers directory exists, then deletes `<layers>/sbom`.
 * Launch- and build-level SBOMs are never restored.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CairnError } from '../oci/errors.js';
import type { LayerTypes } from './files/layer-toml.js';
import { invalidFile } from './files/toml.js';
import { escapeId } from './ids.js';

const EXTENSIONS = {
  'application/vnd.cyclonedx+json': 'cdx.json',
  'application/spdx+json': 'spdx.json',
  'application/vnd.syft+json': 'syft.json',
} as const;

export type SbomMediaType = keyof typeof EXTENSIONS;
export type SbomExtension = (typeof EXTENSIONS)[SbomMediaType];
export type SbomKind = 'launch' | 'build' | 'cache';

export const SBOM_MEDIA_TYPES = Object.keys(EXTENSIONS) as SbomMediaType[];

/** The media type without parameters, lower-cased (`application/spdx+json; version=2.3` → `application/spdx+json`). */
function baseMediaType(mt: string): string {
  return mt.split(';')[0]!.trim().toLowerCase();
}

/** File extension of a supported media type (parameters ignored); undefined for others. */
export function sbomExtension(mediaType: string): SbomExtension | undefined {
  return EXTENSIONS[baseMediaType(mediaType) as SbomMediaType];
}

/** Media type of an SBOM file name by its `.sbom.<ext>` suffix; undefined when unsupported. */
export function sbomMediaTypeOf(fileName: string): SbomMediaType | undefined {
  return SBOM_MEDIA_TYPES.find((mt) => fileName.endsWith(`.sbom.${EXTENSIONS[mt]}`));
}

/** Go `filepath.Match("*.sbom.*.json")` on a base name. */
export function isSbomFileName(fileName: string): boolean {
  return /^[^/]*\.sbom\.[^/]*\.json$/.test(fileName);
}

/** One SBOM file to copy after the build. Paths are relative to `<layers>`. */
export interface SbomCopy {
  kind: SbomKind;
  /** `<escaped-bp>/<file>`. */
  source: string;
  /** `sbom/<kind>/<escaped-bp>/[<layer>/]sbom.<ext>`. */
  destination: string;
  /** Absent for launch-/build-level SBOMs. */
  layer?: string;
}

/**
 * The copies for one buildpack's SBOM files (digest §2.9 table), validated. `fileNames` are the regular files
 * in `<layers>/<bp>`; `layers` the types of the layers that have a `.toml`. Throws INVALID_LIFECYCLE_FILE
 * naming the file for an unsupported extension or an undeclared media type.
 */
export function planSbomCopies(buildpackId: string, sbomFormats: readonly string[], fileNames: readonly string[], layers: ReadonlyMap<string, LayerTypes>): SbomCopy[] {
  const bpDir = escapeId(buildpackId);
  const declared = new Set(sbomFormats.map(baseMediaType));
  const copies: SbomCopy[] = [];
  for (const file of [...fileNames].filter(isSbomFileName).sort()) {
    const name = file.slice(0, file.indexOf('.'));
    const kinds: SbomKind[] = [];
    let layer: string | undefined;
    if (name === 'launch' || name === 'build') {
      kinds.push(name);
    } else {
      const t = layers.get(name);
      if (!t) continue;
      layer = name;
      kinds.push(t.launch ? 'launch' : 'build');
      if (t.cache) kinds.push('cache');
    }
    const source = `${bpDir}/${file}`;
    const mt = sbomMediaTypeOf(file);
    if (!mt) {
      throw invalidFile(source, 'unsupported SBOM format', `name SBOM files <layer>.sbom.<ext> with ext one of ${Object.values(EXTENSIONS).join(', ')}`);
    }
    if (!declared.has(mt)) {
      throw invalidFile(source, `SBOM media type ${mt} is not declared by buildpack ${buildpackId}`, 'add it to sbom-formats in buildpack.toml');
    }
    for (const kind of kinds) {
      const dest = ['sbom', kind, bpDir, ...(layer ? [layer] : []), `sbom.${EXTENSIONS[mt]}`].join('/');
      copies.push({ kind, source, destination: dest, layer });
    }
  }
  return copies;
}

/** `sbom/launch/buildpacksio_lifecycle/launcher/sbom.<ext>`: the launcher's SBOM in the image (Platform ≥ 0.11). */
export function launcherSbomDestination(ext: SbomExtension): string {
  return `sbom/launch/buildpacksio_lifecycle/launcher/sbom.${ext}`;
}

/** `sbom/build/buildpacksio_lifecycle/sbom.<ext>`: the lifecycle's own SBOM. */
export function lifecycleSbomDestination(ext: SbomExtension): string {
  return `sbom/build/buildpacksio_lifecycle/sbom.${ext}`;
}

/**
 * Where a file under `<layers>/sbom` is restored to (relative to `<layers>`): `{cache,launch}/<bp>/<layer>/
 * sbom.<ext>` → `<bp>/<layer>.sbom.<ext>`; undefined for anything else (launch-/build-level SBOMs included).
 */
export function sbomRestoreDestination(relPath: string): { bpDir: string; destination: string } | undefined {
  const parts = relPath.split('/');
  if (parts.length !== 4) return undefined;
  const [kind, bpDir, layer, file] = parts as [string, string, string, string];
  if (kind !== 'cache' && kind !== 'launch') return undefined;
  if (!Object.values(EXTENSIONS).some((ext) => file === `sbom.${ext}`)) return undefined;
  if ([bpDir, layer].some((p) => p === '' || p === '.' || p === '..')) return undefined;
  return { bpDir, destination: `${bpDir}/${layer}.${file}` };
}

function ioError(what: string, e: unknown): CairnError {
  return new CairnError('IO', `${what}: ${(e as Error).message}`, { cause: e });
}

/** Empties `<layers>/sbom` (the builder starts with none). */
export async function resetSbomDir(layersDir: string): Promise<void> {
  await rm(join(layersDir, 'sbom'), { recursive: true, force: true });
}

/** Performs the copies of `planSbomCopies`. */
export async function copySbomFiles(layersDir: string, copies: readonly SbomCopy[]): Promise<void> {
  for (const c of copies) {
    const dest = join(layersDir, c.destination);
    try {
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(join(layersDir, c.source), dest);
    } catch (e) {
      throw ioError(`cannot copy SBOM ${c.source} to ${c.destination}`, e);
    }
  }
}

async function regularFilesUnder(root: string, rel = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(`cannot list ${join(root, rel)}`, e);
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await regularFilesUnder(root, p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Restores layer SBOMs from `<layers>/sbom/{cache,launch}` for the group's buildpacks (by ID) whose layers
 * directory exists, then removes `<layers>/sbom`. Returns the destinations written (relative to `<layers>`).
 */
export async function restoreSbomFiles(layersDir: string, groupIds: readonly string[]): Promise<string[]> {
  const wanted = new Set(groupIds.map(escapeId));
  const present = new Set((await readdir(layersDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name));
  const written = new Set<string>();
  for (const kind of ['cache', 'launch']) {
    for (const rel of await regularFilesUnder(join(layersDir, 'sbom'), kind)) {
      const r = sbomRestoreDestination(rel);
      if (!r || !wanted.has(r.bpDir) || !present.has(r.bpDir)) continue;
      try {
        await copyFile(join(layersDir, 'sbom', rel), join(layersDir, r.destination));
      } catch (e) {
        throw ioError(`cannot restore SBOM ${rel}`, e);
      }
      written.add(r.destination);
    }
  }
  await resetSbomDir(layersDir);
  return [...written];
}

/** The regular files of `<layers>/<bp>` that look like SBOMs (input to `planSbomCopies`). */
export async function listSbomFiles(bpLayersDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(bpLayersDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(`cannot list ${bpLayersDir}`, e);
  }
  return entries.filter((e) => e.isFile() && isSbomFileName(e.name)).map((e) => e.name).sort();
}
