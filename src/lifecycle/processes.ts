/**
 * Merging the processes of a group's launch.toml files (digest §2.5, buildpack spec "launch.toml", reference
 * `phase/builder.go processMap`): a later buildpack's process of the same type replaces the earlier one; the
 * buildpack-provided default is the last process flagged `default = true`, and is lost (with a warning) when
 * a later buildpack redefines that type without the flag. The result is sorted by type, without `default`.
 */
import type { BuildMetadataProcess } from './files/build-metadata-toml.js';
import type { ProcessEntry } from './files/launch-toml.js';

export interface BuildpackProcesses {
  buildpackId: string;
  processes: readonly ProcessEntry[];
}

export interface MergedProcesses {
  processes: BuildMetadataProcess[];
  defaultType?: string;
  warnings: string[];
}

export function mergeProcesses(perBuildpack: readonly BuildpackProcesses[]): MergedProcesses {
  const byType = new Map<string, BuildMetadataProcess>();
  let defaultType: string | undefined;
  const warnings: string[] = [];
  for (const { buildpackId, processes } of perBuildpack) {
    for (const p of processes) {
      if (p.default) {
        defaultType = p.type;
      } else if (p.type === defaultType) {
        defaultType = undefined;
        warnings.push(`buildpack ${buildpackId} redefines the default process type "${p.type}" without default = true; the image has no default process`);
      }
      byType.set(p.type, {
        type: p.type,
        command: [...p.command],
        args: [...p.args],
        direct: true,
        buildpackId,
        workingDir: p.workingDir,
        execEnv: [...p.execEnv],
      });
    }
  }
  const processes = [...byType.keys()].sort().map((t) => byType.get(t)!);
  return { processes, defaultType, warnings };
}
