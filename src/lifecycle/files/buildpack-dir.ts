/**
 * A buildpack on disk: `<buildpacks>/<escaped-id>/<version>/` with `buildpack.toml` at its root (digest §3.1).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../../oci/errors.js';
import { escapeId } from '../ids.js';
import type { Target } from '../target.js';
import { effectiveTargets, parseBuildpackToml, type BuildpackDescriptor } from './buildpack-toml.js';
import { MAX_TOML_BYTES, readBoundedFile } from './toml.js';

export interface BuildpackDir {
  /** Absolute root of the buildpack (`CNB_BUILDPACK_DIR`). */
  dir: string;
  descriptor: BuildpackDescriptor;
  /** `effectiveTargets` of the descriptor given the files in `bin/`. */
  targets: Target[];
}

/** `<buildpacks>/<escaped-id>/<version>`. */
export function buildpackDirPath(buildpacksDir: string, id: string, version: string): string {
  return join(buildpacksDir, escapeId(id), version);
}

/** Reads `<dir>/buildpack.toml` and the names in `<dir>/bin`. */
export async function readBuildpackDir(dir: string): Promise<BuildpackDir> {
  const file = join(dir, 'buildpack.toml');
  const text = await readBoundedFile(file, MAX_TOML_BYTES, true);
  if (text === undefined) {
    throw new CairnError('NOT_FOUND', `buildpack not found: ${file} does not exist`, {
      hint: 'check the buildpack id and version against the buildpacks directory',
    });
  }
  const descriptor = parseBuildpackToml(text, file);
  let bin: string[] = [];
  try {
    bin = await readdir(join(dir, 'bin'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CairnError('IO', `cannot list ${join(dir, 'bin')}: ${(e as Error).message}`, { cause: e });
  }
  return { dir, descriptor, targets: effectiveTargets(descriptor, bin) };
}

/** Looks a buildpack up in a buildpacks directory, checking the descriptor names the requested id and version. */
export async function lookupBuildpack(buildpacksDir: string, id: string, version: string): Promise<BuildpackDir> {
  const bp = await readBuildpackDir(buildpackDirPath(buildpacksDir, id, version));
  const d = bp.descriptor.buildpack;
  if (d.id !== id || d.version !== version) {
    throw new CairnError('INVALID_LIFECYCLE_FILE', `${join(bp.dir, 'buildpack.toml')} describes ${d.id}@${d.version}, not ${id}@${version}`, {
      hint: 'the buildpacks directory layout is <buildpacks>/<id with / as _>/<version>/',
    });
  }
  return bp;
}
