/**
 * `io.buildpacks.build.metadata` (digest §5.3, platform spec): the JSON form of `<layers>/config/metadata.toml`
 * plus launcher provenance; labels and slices are not included.
 *
 * Choices (digest §12): each buildpack/extension carries `api` as the spec lists (the reference omits it);
 * `bom` is left out, as the reference does for Platform ≥ 0.9 (its empty array is `omitempty`); processes
 * without `exec-env` get `["*"]`, the spec's "all environments".
 */
import type { BuildMetadataProcess, BuildMetadataToml } from '../files/build-metadata-toml.js';
import type { GroupEntry } from '../files/group-toml.js';
import type { Fields } from '../files/fields.js';
import { readExecEnv } from '../files/module-ref.js';
import { labelJson, parseJsonLabel } from './json.js';
import { BUILD_METADATA_LABEL } from './names.js';

export interface LauncherInfo {
  version: string;
  source: { git: { repository: string; commit: string } };
}

export interface BuildMetadataLabel {
  buildpacks: GroupEntry[];
  extensions: GroupEntry[];
  launcher: LauncherInfo;
  processes: BuildMetadataProcess[];
  buildpackDefaultProcessType?: string;
}

export function buildMetadataLabelOf(md: BuildMetadataToml, launcher: LauncherInfo): BuildMetadataLabel {
  return {
    buildpacks: md.buildpacks,
    extensions: md.extensions,
    launcher,
    processes: md.processes,
    buildpackDefaultProcessType: md.buildpackDefaultProcessType,
  };
}

const entryJson = (e: GroupEntry) => ({ id: e.id, version: e.version, homepage: e.homepage || undefined, api: e.api });

/** The label value (compact JSON, fixed key order). */
export function buildMetadataLabel(l: BuildMetadataLabel): string {
  return labelJson({
    buildpacks: l.buildpacks.map(entryJson),
    extensions: l.extensions.length > 0 ? l.extensions.map(entryJson) : undefined,
    launcher: { version: l.launcher.version, source: { git: { repository: l.launcher.source.git.repository, commit: l.launcher.source.git.commit } } },
    processes: l.processes.map((p) => ({
      type: p.type,
      command: p.command,
      args: p.args,
      direct: p.direct,
      buildpackID: p.buildpackId,
      'working-dir': p.workingDir,
      'exec-env': p.execEnv.length > 0 ? p.execEnv : ['*'],
    })),
    'buildpack-default-process-type': l.buildpackDefaultProcessType || undefined,
  });
}

function readEntry(f: Fields): GroupEntry {
  return { id: f.requiredString('id'), version: f.string('version') ?? '', api: f.string('api') ?? '', homepage: f.string('homepage') || undefined };
}

/** Parses the label of an image (untrusted). A string `command` (Platform < 0.10) becomes a one-element array. */
export function parseBuildMetadataLabel(json: string): BuildMetadataLabel {
  const f = parseJsonLabel(json, BUILD_METADATA_LABEL);
  const git = f.table('launcher')?.table('source')?.table('git');
  return {
    buildpacks: f.tables('buildpacks').map(readEntry),
    extensions: f.tables('extensions').map(readEntry),
    launcher: {
      version: f.table('launcher')?.string('version') ?? '',
      source: { git: { repository: git?.string('repository') ?? '', commit: git?.string('commit') ?? '' } },
    },
    processes: f.tables('processes').map((p) => {
      const raw = p.raw.command;
      return {
        type: p.requiredString('type'),
        command: typeof raw === 'string' ? [raw] : (p.strings('command') ?? []),
        args: p.strings('args') ?? [],
        direct: p.boolean('direct') ?? true,
        buildpackId: p.string('buildpackID') ?? '',
        workingDir: p.string('working-dir') || undefined,
        execEnv: readExecEnv(p),
      };
    }),
    buildpackDefaultProcessType: f.string('buildpack-default-process-type') || undefined,
  };
}
