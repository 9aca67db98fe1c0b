/**
 * `<layers>/config/metadata.toml` (digest §4.2, platform spec "metadata.toml"): the builder's output and the
 * launcher's input; also the source of the `io.buildpacks.build.metadata` label. Platform API ≥ 0.10 only, so
 * `command` is written as an array (a legacy string is still read). Processes with no `exec-env` are written
 * with `["*"]`, as the spec requires.
 */
import { Fields } from './fields.js';
import { groupEntryToToml, type GroupEntry } from './group-toml.js';
import type { Label, Slice } from './launch-toml.js';
import { readExecEnv } from './module-ref.js';
import { parseToml, stringifyToml } from './toml.js';

export interface BuildMetadataProcess {
  type: string;
  command: string[];
  args: string[];
  /** Always true for Buildpack API ≥ 0.9. */
  direct: boolean;
  buildpackId: string;
  workingDir?: string;
  /** Empty or `["*"]`: every execution environment. */
  execEnv: string[];
}

export interface BuildMetadataToml {
  buildpackDefaultProcessType?: string;
  buildpacks: GroupEntry[];
  extensions: GroupEntry[];
  /** Aggregated launch.toml labels, in buildpack order (later wins). */
  labels: Label[];
  processes: BuildMetadataProcess[];
  slices: Slice[];
}

const HINT = 'config/metadata.toml is written by the builder; re-run the build phase';

function readGroupEntry(f: Fields): GroupEntry {
  return { id: f.requiredString('id'), version: f.requiredString('version'), api: f.requiredString('api'), homepage: f.string('homepage') || undefined };
}

function readProcess(f: Fields): BuildMetadataProcess {
  const raw = f.raw.command;
  const command = typeof raw === 'string' ? [raw] : (f.strings('command') ?? []);
  if (command.length === 0) f.fail('command', 'is required');
  return {
    type: f.requiredString('type'),
    command,
    args: f.strings('args') ?? [],
    direct: f.boolean('direct') ?? true,
    buildpackId: f.requiredString('buildpack-id'),
    workingDir: f.string('working-dir') || undefined,
    execEnv: readExecEnv(f),
  };
}

export function parseBuildMetadataToml(text: string, file = 'metadata.toml'): BuildMetadataToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  return {
    buildpackDefaultProcessType: root.string('buildpack-default-process-type') || undefined,
    buildpacks: root.tables('buildpacks').map(readGroupEntry),
    extensions: root.tables('extensions').map(readGroupEntry),
    labels: root.tables('labels').map((l) => ({ key: l.requiredString('key'), value: l.string('value') ?? '' })),
    processes: root.tables('processes').map(readProcess),
    slices: root.tables('slices').map((s) => ({ paths: s.strings('paths') ?? [] })),
  };
}

export function serializeBuildMetadataToml(m: BuildMetadataToml): string {
  return stringifyToml({
    'buildpack-default-process-type': m.buildpackDefaultProcessType || undefined,
    buildpacks: m.buildpacks.map(groupEntryToToml),
    extensions: m.extensions.length > 0 ? m.extensions.map(groupEntryToToml) : undefined,
    labels: m.labels.map((l) => ({ key: l.key, value: l.value })),
    processes: m.processes.map((p) => ({
      type: p.type,
      command: p.command,
      args: p.args,
      direct: p.direct,
      'buildpack-id': p.buildpackId,
      'working-dir': p.workingDir,
      'exec-env': p.execEnv.length > 0 ? p.execEnv : ['*'],
    })),
    slices: m.slices.map((s) => ({ paths: s.paths })),
  });
}
