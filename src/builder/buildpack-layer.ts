/**
 * A buildpack folder → its layer (distribution spec "Buildpackage"; digest §7.1): the folder's contents
 * at `/cnb/buildpacks/<escaped id>/<version>/`, root-owned, mtime 1980-01-01T00:00:01Z, folders 0755,
 * files 0644 or 0755 when any execute bit is set (pack's modes, which the layer writer applies). Every
 * regular file directly in `bin/` is written 0755 whatever its mode on disk (pack does so for
 * bin/detect, bin/build and bin/generate): a buildpack checked out without execute bits (a zip, a
 * Windows checkout) still runs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLayer, type Layer } from '../oci/layer.js';
import { type LayerSource, writeLayer } from '../oci/layer/tar-writer.js';
import { escapeId } from '../lifecycle/ids.js';

/** Folder of a buildpack inside images (digest §7.1). */
export function buildpackPath(id: string, version: string): string {
  return `cnb/buildpacks/${escapeId(id)}/${version}`;
}

/** Writes the layer of the buildpack in `dir` (id and version from its buildpack.toml) to `dest`. */
export async function writeBuildpackLayer(dir: string, id: string, version: string, dest: string): Promise<Layer> {
  const base = buildpackPath(id, version);
  const binFiles = await regularFilesIn(join(dir, 'bin'));
  const sources: LayerSource[] = [
    { type: 'tree', source: dir, path: base, filter: (e) => !(e.type === 'file' && binFiles.includes(e.path)) },
    ...(await Promise.all(binFiles.map(async (rel): Promise<LayerSource> => ({ type: 'file', path: `${base}/${rel}`, data: await readFile(join(dir, rel)), executable: true })))),
  ];
  const r = await writeLayer(sources, dest);
  return fileLayer(dest, r);
}

/** `bin/<name>` for each regular file (not symlink) directly in `binDir`; none when it is absent. */
async function regularFilesIn(binDir: string): Promise<string[]> {
  const entries = await readdir(binDir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [];
    throw e;
  });
  return entries.filter((e) => e.isFile()).map((e) => `bin/${e.name}`).sort();
}
