/**
 * `<layers>/<bp>/launch.toml` (digest §2.5, buildpack spec "launch.toml"). cairn supports Buildpack API
 * 0.10–0.12 only, so `command` is always an array and `direct` is always rejected (API ≥ 0.9).
 *
 * Checked: label keys and process types unique within the buildpack, process types' characters, at most one
 * `default = true` (reference `validateNoMultipleDefaults`), slice globs that do not climb out of `<app>`.
 */
import { posix } from 'node:path';
import { checkProcessType } from '../ids.js';
import { readRequire, requireToToml, type Require } from './build-plan.js';
import { Fields } from './fields.js';
import { readExecEnv } from './module-ref.js';
import { parseToml, stringifyToml } from './toml.js';

export interface Label {
  key: string;
  value: string;
}

export interface ProcessEntry {
  type: string;
  /** `[0]` is an executable path or a name looked up in PATH; the rest are always-passed arguments. */
  command: string[];
  /** Default arguments, replaced by user arguments at launch. */
  args: string[];
  default: boolean;
  /** Absent: `<app>`. */
  workingDir?: string;
  /** Execution environments (Buildpack API 0.12); empty = all. */
  execEnv: string[];
}

export interface Slice {
  /** Go `filepath.Match` globs relative to `<app>` (or absolute inside it). */
  paths: string[];
}

export interface LaunchToml {
  labels: Label[];
  processes: ProcessEntry[];
  slices: Slice[];
  /** Legacy `[[bom]]` (deprecated since Buildpack API 0.7). */
  bom: Require[];
}

const HINT = 'fix the launch.toml the buildpack writes; see https://github.com/buildpacks/spec/blob/main/buildpack.md#launchtoml-toml';

function readProcess(f: Fields): ProcessEntry {
  const type = f.requiredString('type');
  const why = checkProcessType(type);
  if (why) f.fail('type', `"${type}" ${why}`);
  if (f.has('direct')) f.fail('direct', 'is not supported for Buildpack API 0.9 and later (processes are always direct)');
  if (typeof f.raw.command === 'string') {
    f.fail('command', 'must be an array for Buildpack API 0.9 and later', 'write command = ["executable", "always-passed arg", ...]');
  }
  const command = f.strings('command') ?? [];
  if (command.length === 0 || command[0] === '') f.fail('command', 'is required and its first element must name an executable');
  return {
    type,
    command,
    args: f.strings('args') ?? [],
    default: f.boolean('default') ?? false,
    workingDir: f.string('working-dir') || undefined,
    execEnv: readExecEnv(f),
  };
}

function readSlice(f: Fields): Slice {
  const paths = f.strings('paths') ?? [];
  paths.forEach((p, i) => {
    if (p.startsWith('/')) return;
    const n = posix.normalize(p);
    if (n === '..' || n.startsWith('../')) f.fail(`paths[${i}]`, `"${p}" points outside the app directory`);
  });
  return { paths };
}

export function parseLaunchToml(text: string, file = 'launch.toml'): LaunchToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  const labels = root.tables('labels').map((l): Label => {
    const key = l.requiredString('key');
    const value = l.string('value') ?? l.fail('value', 'is required');
    return { key, value };
  });
  const seenKeys = new Set<string>();
  labels.forEach((l, i) => {
    if (seenKeys.has(l.key)) root.fail(`labels[${i}].key`, `"${l.key}" is given twice`);
    seenKeys.add(l.key);
  });
  const processes = root.tables('processes').map(readProcess);
  const seenTypes = new Set<string>();
  let defaults = 0;
  processes.forEach((p, i) => {
    if (seenTypes.has(p.type)) root.fail(`processes[${i}].type`, `"${p.type}" is given twice`);
    seenTypes.add(p.type);
    if (p.default && ++defaults > 1) root.fail(`processes[${i}].default`, 'only one process may have default = true');
  });
  return { labels, processes, slices: root.tables('slices').map(readSlice), bom: root.tables('bom').map(readRequire) };
}

export function processEntryToToml(p: ProcessEntry): Record<string, unknown> {
  return {
    type: p.type,
    command: p.command,
    args: p.args,
    default: p.default ? true : undefined,
    'working-dir': p.workingDir,
    'exec-env': p.execEnv.length > 0 ? p.execEnv : undefined,
  };
}

export function serializeLaunchToml(l: LaunchToml): string {
  return stringifyToml({
    labels: l.labels.length > 0 ? l.labels.map((x) => ({ key: x.key, value: x.value })) : undefined,
    processes: l.processes.length > 0 ? l.processes.map(processEntryToToml) : undefined,
    slices: l.slices.length > 0 ? l.slices.map((s) => ({ paths: s.paths })) : undefined,
    bom: l.bom.length > 0 ? l.bom.map(requireToToml) : undefined,
  });
}
