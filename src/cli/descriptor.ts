/**
 * `cairn build --descriptor` (pack's): the project descriptor (project.toml, schema 0.2; src/platform/project-toml.ts)
 * given by the flag, else `project.toml` in the app folder when there is one. What it sets, and what wins:
 * - `builder`: used unless --builder is given (before $CAIRN_BUILDER and `cairn config default-builder`);
 * - `[[io.buildpacks.build.env]]`: build-time variables; --env and --env-file win;
 * - `[[io.buildpacks.group]]`: the buildpacks, as --buildpack values (a `uri`, else `id@version`; inline
 *   `script` buildpacks are written into `scratch`); --buildpack wins;
 * - `pre`/`post` groups: placed before and after the group, or around every group of the builder's order;
 * - `include`/`exclude`: which app files the build sees.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeInlineBuildpack } from '../platform/inline-buildpack.js';
import { type ProjectDescriptor, type ProjectGroupEntry, parseProjectToml } from '../platform/project-toml.js';
import { readDefinition } from '../platform/read-definition.js';
import { FROM_BUILDER } from '../platform/select-buildpacks.js';

export interface LoadedDescriptor {
  path: string;
  descriptor: ProjectDescriptor;
}

/** The descriptor `flag` names (relative to `cwd`), else `<appDir>/project.toml` if present, else undefined. */
export async function loadDescriptor(flag: string | undefined, appDir: string, cwd: string): Promise<LoadedDescriptor | undefined> {
  const path = flag ? resolve(cwd, flag) : join(appDir, 'project.toml');
  if (!flag && !(await stat(path).then((s) => s.isFile(), () => false))) return undefined;
  const text = await readDefinition(path, flag ?? path, 'the project descriptor');
  return { path, descriptor: parseProjectToml(text, flag ?? path) };
}

/**
 * The --buildpack values a build uses: the flags when given, else the descriptor's group; with pre/post groups
 * around them (around the builder's order, `from=builder`, when there is no group). Undefined: the builder's order.
 */
export async function descriptorBuildpacks(flags: string[] | undefined, d: LoadedDescriptor | undefined, scratch: string): Promise<string[] | undefined> {
  const ref = (e: ProjectGroupEntry) => entryRef(e, dirname(d!.path), scratch);
  const group = flags?.length ? flags : d && d.descriptor.group.length > 0 ? await Promise.all(d.descriptor.group.map(ref)) : undefined;
  const pre = d ? await Promise.all(d.descriptor.preGroup.map(ref)) : [];
  const post = d ? await Promise.all(d.descriptor.postGroup.map(ref)) : [];
  if (pre.length === 0 && post.length === 0) return group;
  return [...pre, ...(group ?? [FROM_BUILDER]), ...post];
}

/** A group entry as a --buildpack value; relative `uri` paths are taken from the descriptor's folder. */
async function entryRef(e: ProjectGroupEntry, descriptorDir: string, scratch: string): Promise<string> {
  if (e.script) {
    const dir = join(scratch, `inline-${e.id!.replace(/[^A-Za-z0-9._-]/g, '_')}`);
    await writeInlineBuildpack(dir, { id: e.id!, ...(e.version ? { version: e.version } : {}), ...e.script });
    return dir;
  }
  if (e.uri) return e.uri.startsWith('./') || e.uri.startsWith('../') ? resolve(descriptorDir, e.uri) : e.uri;
  return e.version ? `${e.id}@${e.version}` : e.id!;
}
