/**
 * The record of the last build of an image: a digest of everything the build read (`inputs`) and what it made.
 * When a new build of the same outputs has the same inputs and every output still holds the recorded image,
 * the build is a no-op and the image is reused without running the lifecycle (build-image.ts).
 *
 * What "everything the build read" covers: cairn's version, the builder and run image manifests (by digest),
 * the app as the build sees it (app-digest.ts), the platform environment, extra CAs, the creation time, the
 * default process and the platform. It does not cover what buildpacks fetch from the network: a version range
 * resolved to a newer release is picked up only by a build that runs, so `--clear-cache` (or any change) runs it.
 *
 * Records live in `<home>/build-records/<key>.json`, the key digesting the output names; written atomically
 * after the image is stored, so a crash leaves the previous record or none.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../oci/digest.js';
import { writeFileAtomic } from '../oci/atomic-file.js';
import type { GroupEntry } from '../lifecycle/files/group-toml.js';
import { canonical } from '../lifecycle/files/toml.js';
import type { BuildMetadataProcess } from '../lifecycle/files/build-metadata-toml.js';

export interface BuildRecord {
  inputs: string;
  /** The image's manifest digest. */
  digest: string;
  buildpacks: GroupEntry[];
  processes: BuildMetadataProcess[];
}

function recordPath(home: string, outputs: string[]): string {
  return join(home, 'build-records', `${sha256(JSON.stringify(outputs)).slice('sha256:'.length, 'sha256:'.length + 32)}.json`);
}

/** The digest of a build's inputs (see above); `parts` are JSON values, keys in any order (dates as ISO strings). */
export function inputsDigest(parts: Record<string, unknown>): string {
  return sha256(JSON.stringify(canonical(parts)));
}

export async function readBuildRecord(home: string, outputs: string[]): Promise<BuildRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(recordPath(home, outputs), 'utf8')) as Partial<BuildRecord>;
    if (typeof r.inputs !== 'string' || typeof r.digest !== 'string' || !Array.isArray(r.buildpacks) || !Array.isArray(r.processes)) return undefined;
    return r as BuildRecord;
  } catch {
    return undefined; // none, or unreadable: the build runs
  }
}

export async function writeBuildRecord(home: string, outputs: string[], record: BuildRecord): Promise<void> {
  const path = recordPath(home, outputs);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(record) + '\n');
}
