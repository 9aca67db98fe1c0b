/**
 * What the package-manager buildpacks (yarn-install, pnpm-install) share about a Node.js project:
 * - `packageManager` of package.json (`<name>@<exact version>[+<hash>]`, as corepack reads it);
 * - the Node.js toolchain on PATH at build time (version and architecture, for cache keys);
 * - the scripts to run after the install (`BP_NODE_RUN_SCRIPTS`, as cairn/npm-install reads it);
 * - the skeleton a package manager installs in: a real folder inside a layer whose entries are absolute
 *   symlinks to the app's files, node_modules excepted, so that node_modules is written straight into the
 *   layer (the app and layers folders are separate mounts: nothing can be renamed between them), and the
 *   app's `node_modules` becomes a symlink into the layer;
 * - running a tool with its output in the build log and its tail in the error.
 */
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import type { Env } from './context.js';
import { BuildpackError } from './errors.js';
import { exec, type ExecResult } from './exec.js';
import type { Logger } from './log.js';

export interface PackageJson {
  name?: string;
  scripts?: Record<string, unknown>;
  packageManager?: unknown;
  engines?: Record<string, unknown>;
}

export interface PackageManagerField {
  name: string;
  version: string;
  raw: string;
}

/**
 * Parses `packageManager` (`yarn@4.1.0`, `pnpm@9.1.0+sha512.…`). Undefined when absent; a value corepack
 * would not accept (a range, a tag, a URL) is an error naming it.
 */
export function parsePackageManager(field: unknown): PackageManagerField | undefined {
  if (field === undefined) return undefined;
  const raw = String(field);
  const m = /^(@?[a-z0-9._-]+)@([^+]+)(\+.*)?$/i.exec(raw.trim());
  if (!m || !semver.valid(m[2]!)) {
    throw new BuildpackError(`package.json "packageManager": ${JSON.stringify(raw)} is not a supported version spec`, {
      hint: 'write the name and an exact version, e.g. "yarn@4.1.0" or "pnpm@9.1.0" (a range, a tag or a URL is not accepted, as with corepack)',
    });
  }
  return { name: m[1]!, version: semver.valid(m[2]!)!, raw };
}

export interface Toolchain {
  node: string;
  arch: string;
}

/** Node's name for an OCI architecture (`CNB_TARGET_ARCH`): what `process.arch` says on it. */
export function nodeArchName(oci: string): string {
  return ({ amd64: 'x64', '386': 'ia32', ppc64le: 'ppc64' } as Record<string, string>)[oci] ?? oci;
}

/**
 * Node.js on PATH at build time: its version (without `v`) from `node --version`, which node prints before
 * starting JavaScript (~5 ms, against ~80 ms for `node -p`), and the build target's architecture.
 */
export async function nodeToolchain(appDir: string, env: Env, targetArch: string, who: string): Promise<Toolchain> {
  const n = await exec('node', ['--version'], { cwd: appDir, env }).catch(() => undefined);
  if (!n || n.code !== 0) {
    throw new BuildpackError('node is not on PATH at build time', { output: n?.output, hint: `${who} needs a buildpack that installs Node.js before it (cairn/node-engine)` });
  }
  return { node: n.output.trim().replace(/^v/, ''), arch: nodeArchName(targetArch) };
}

/** The scripts to run: `BP_NODE_RUN_SCRIPTS` (comma-separated; each must exist), else `build` when defined. */
export function scriptsToRun(scripts: Readonly<Record<string, unknown>> | undefined, setting: string | undefined): string[] {
  const have = scripts ?? {};
  if (setting === undefined) return typeof have.build === 'string' ? ['build'] : [];
  const names = setting.split(',').map((s) => s.trim()).filter(Boolean);
  const missing = names.filter((n) => typeof have[n] !== 'string');
  if (missing.length) {
    throw new BuildpackError(`BP_NODE_RUN_SCRIPTS names ${missing.map((m) => `"${m}"`).join(', ')}, which package.json does not define`, {
      output: `scripts in package.json: ${Object.keys(have).join(', ') || '(none)'}`,
      hint: 'add the scripts to package.json, or change BP_NODE_RUN_SCRIPTS',
    });
  }
  return names;
}

/** The last lines of a tool's output: the part that says why it failed. */
export function outputTail(output: string, lines = 40): string {
  const all = output.trimEnd().split('\n');
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n');
}

/** Builds the skeleton of the app (its root folder) in `dest`. */
export async function makeSkeleton(appDir: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const e of (await readdir(appDir)).sort()) if (e !== 'node_modules') await symlink(join(appDir, e), join(dest, e));
}

/** Points `<app>/node_modules` at `modules`. */
export async function linkNodeModules(appDir: string, modules: string): Promise<void> {
  const at = join(appDir, 'node_modules');
  await rm(at, { recursive: true, force: true });
  await symlink(modules, at);
}

/** Runs `file args` in `cwd` with its output indented in the build log; the caller judges the result. */
export async function runTool(log: Logger, shown: string, file: string, args: readonly string[], cwd: string, env: Env): Promise<ExecResult> {
  log.info(`Running \`${shown}\``);
  return exec(file, args, { cwd, env, onOutput: (t) => log.raw(t.replace(/^(?=.)/gm, '      ')) });
}
