/**
 * project.toml's inline buildpacks (`[io.buildpacks.group.script]`, project descriptor spec): a buildpack folder
 * written from the script — `buildpack.toml` with the given API and ID, a `bin/detect` that always passes, and a
 * `bin/build` that runs the inline script with the given shell (arguments and environment as any bin/build).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'smol-toml';

export interface InlineBuildpack {
  id: string;
  version?: string;
  api: string;
  inline: string;
  shell: string;
}

/** Writes the buildpack into `dir` (created). */
export async function writeInlineBuildpack(dir: string, bp: InlineBuildpack): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'buildpack.toml'), stringify({ api: bp.api, buildpack: { id: bp.id, version: bp.version ?? '0.0.0' } }) + '\n');
  await writeFile(join(dir, 'bin', 'detect'), '#!/bin/sh\nexit 0\n');
  await writeFile(join(dir, 'bin', 'build'), `#!${bp.shell}\n${bp.inline}\n`);
  for (const f of ['detect', 'build']) await chmod(join(dir, 'bin', f), 0o755);
}
