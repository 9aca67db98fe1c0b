/**
 * The npm project in the app folder: package.json, lockfile, npm workspaces, and the "skeleton" npm runs in.
 *
 * npm replaces a symlinked node_modules with a real folder, and the app and layers folders are separate
 * mounts (no rename between them), so npm cannot install into a layer through the app folder. Instead it
 * runs in a skeleton of the project built inside the layer: for the root and each workspace package a real
 * folder whose entries are absolute symlinks to the app's files (package.json, lockfile, .npmrc, sources),
 * node_modules excepted. npm then writes every node_modules (root and per workspace) straight into the layer,
 * workspace links (`node_modules/<pkg>` → `../packages/<pkg>`) land on the skeleton, and the app gets
 * `<dir>/node_modules` symlinks into the layer. Nothing npm writes touches the app folder.
 */
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BuildpackError, entryKind, readJsonIfExists, readTextIfExists } from '../sdk/index.js';

export interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  workspaces?: string[] | { packages?: string[] };
  packageManager?: string;
  engines?: Record<string, unknown>;
}

export interface Project {
  appDir: string;
  pkg: PackageJson;
  /** Raw package.json bytes of the root and each workspace, for the cache key. */
  manifests: Record<string, string>;
  /** `npm-shrinkwrap.json` or `package-lock.json`, when there is one. */
  lockfile?: { name: string; text: string };
  /** Workspace folders, relative, sorted. */
  workspaces: string[];
  /** node_modules is a real folder in the app (vendored). */
  vendored: boolean;
}

/** Workspace globs of package.json: `dir/*` and literal paths (`**` is not supported). */
export function workspaceGlobs(pkg: PackageJson): string[] {
  const w = pkg.workspaces;
  const list = Array.isArray(w) ? w : Array.isArray(w?.packages) ? w!.packages! : [];
  return list.filter((x): x is string => typeof x === 'string');
}

async function expandGlob(appDir: string, glob: string): Promise<string[]> {
  const parts = posix.normalize(glob.replace(/^\.\//, '')).split('/').filter(Boolean);
  if (parts.some((p) => p === '..' || p === '**')) {
    throw new BuildpackError(`the workspace pattern ${JSON.stringify(glob)} in package.json is not supported`, { hint: 'list workspaces as folders or "dir/*" patterns inside the app' });
  }
  let found = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of found) {
      if (!part.includes('*')) {
        next.push(base ? `${base}/${part}` : part);
        continue;
      }
      const re = new RegExp(`^${part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
      let names: string[] = [];
      try {
        names = (await readdir(join(appDir, base), { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.') && re.test(e.name)).map((e) => e.name);
      } catch {
        // no such folder: matches nothing
      }
      for (const n of names) next.push(base ? `${base}/${n}` : n);
    }
    found = next;
  }
  const out: string[] = [];
  for (const f of found) if ((await entryKind(join(appDir, f, 'package.json'))) === 'file') out.push(f);
  return out;
}

export async function readProject(appDir: string): Promise<Project | undefined> {
  const rootText = await readTextIfExists(join(appDir, 'package.json'));
  if (rootText === undefined) return undefined;
  const pkg = (await readJsonIfExists<PackageJson>(join(appDir, 'package.json'), 'package.json'))!;
  const workspaces = [...new Set((await Promise.all(workspaceGlobs(pkg).map((g) => expandGlob(appDir, g)))).flat())].sort();
  const manifests: Record<string, string> = { '.': rootText };
  for (const w of workspaces) manifests[w] = (await readTextIfExists(join(appDir, w, 'package.json'))) ?? '';
  let lockfile: Project['lockfile'];
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    const text = await readTextIfExists(join(appDir, name));
    if (text !== undefined) {
      lockfile = { name, text };
      break;
    }
  }
  return { appDir, pkg, manifests, ...(lockfile ? { lockfile } : {}), workspaces, vendored: (await entryKind(join(appDir, 'node_modules'))) === 'dir' };
}

/** The workspace named by BP_NPM_WORKSPACE (a folder path), checked against the project's workspaces. */
export function selectWorkspace(project: Project, setting: string | undefined): string | undefined {
  if (!setting?.trim()) return undefined;
  const rel = posix.normalize(setting.trim().replace(/^\.\//, '').replace(/\/+$/, ''));
  if (project.workspaces.includes(rel)) return rel;
  throw new BuildpackError(`BP_NPM_WORKSPACE=${setting} is not a workspace of this project`, {
    output: project.workspaces.length ? `workspaces: ${project.workspaces.join(', ')}` : 'package.json declares no "workspaces"',
    hint: 'set BP_NPM_WORKSPACE to the folder of one workspace package, relative to the app root (e.g. packages/api)',
  });
}

/** Workspaces the selected one needs at run time: itself and, transitively, the workspaces it depends on. */
export async function workspaceClosure(project: Project, selected: string): Promise<Set<string>> {
  const byName = new Map<string, string>();
  const pkgs = new Map<string, PackageJson>();
  for (const w of project.workspaces) {
    const p = (await readJsonIfExists<PackageJson>(join(project.appDir, w, 'package.json'), `${w}/package.json`)) ?? {};
    pkgs.set(w, p);
    if (p.name) byName.set(p.name, w);
  }
  const out = new Set<string>();
  const visit = (w: string): void => {
    if (out.has(w)) return;
    out.add(w);
    const p = pkgs.get(w) ?? {};
    for (const dep of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) {
      const target = byName.get(dep);
      if (target) visit(target);
    }
  };
  visit(selected);
  return out;
}

/**
 * Builds the skeleton of `project` in `dest`: for the root and each workspace folder, a real folder whose
 * other entries are absolute symlinks to the app's (`appPath` is the app folder as the processes see it).
 */
export async function makeSkeleton(appDir: string, dest: string, workspaces: readonly string[]): Promise<void> {
  const realDirs = new Set<string>(['.']);
  for (const w of workspaces) for (let d = w; d !== '.'; d = posix.dirname(d)) realDirs.add(d);
  const visit = async (rel: string): Promise<void> => {
    await mkdir(join(dest, rel), { recursive: true });
    for (const e of (await readdir(join(appDir, rel))).sort()) {
      const child = rel === '.' ? e : `${rel}/${e}`;
      if (e === 'node_modules') continue;
      if (realDirs.has(child)) await visit(child);
      else await symlink(join(appDir, child), join(dest, child));
    }
  };
  await visit('.');
}

/** Folders (relative, `.` first) under which the layer holds a node_modules. */
export async function nodeModulesDirs(layer: string, workspaces: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of ['.', ...workspaces]) if ((await entryKind(join(layer, d, 'node_modules'))) === 'dir') out.push(d);
  return out;
}

/** Points `<app>/<dir>/node_modules` at `<layer>/<dir>/node_modules` for each dir. */
export async function linkNodeModules(appDir: string, layer: string, dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    const at = join(appDir, d, 'node_modules');
    if ((await entryKind(join(appDir, d))) !== 'dir') continue; // a workspace left out of the image
    await rm(at, { recursive: true, force: true });
    await symlink(join(layer, d, 'node_modules'), at);
  }
}

/** Removes scope folders (`node_modules/@x/`) that pruning left empty, in each node_modules of `layer`. */
export async function removeEmptyScopes(layer: string, dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    const nm = join(layer, d, 'node_modules');
    for (const e of await readdir(nm, { withFileTypes: true })) {
      if (e.isDirectory() && e.name.startsWith('@') && (await readdir(join(nm, e.name))).length === 0) await rm(join(nm, e.name), { recursive: true });
    }
  }
}
