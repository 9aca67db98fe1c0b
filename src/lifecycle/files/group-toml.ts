/**
 * group.toml (digest §3.4, platform spec "group.toml"): the detected group. `id`, `version` and `api` are
 * required for every entry; `homepage` is optional; there is no `optional`.
 */
import { checkBuildpackId } from '../ids.js';
import { Fields } from './fields.js';
import { parseToml, stringifyToml, type TomlTable } from './toml.js';

export interface GroupEntry {
  id: string;
  version: string;
  /** Buildpack API of the buildpack (from its buildpack.toml). */
  api: string;
  homepage?: string;
}

export interface GroupToml {
  group: GroupEntry[];
  groupExtensions: GroupEntry[];
}

const HINT = 'group.toml is written by the detector; re-run detection';

function readEntry(f: Fields): GroupEntry {
  const id = f.requiredString('id');
  const why = checkBuildpackId(id);
  if (why) f.fail('id', why);
  return { id, version: f.requiredString('version'), api: f.requiredString('api'), homepage: f.string('homepage') || undefined };
}

export function groupEntryToToml(e: GroupEntry): TomlTable {
  return { id: e.id, version: e.version, api: e.api, homepage: e.homepage || undefined };
}

export function parseGroupToml(text: string, file = 'group.toml'): GroupToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  return { group: root.tables('group').map(readEntry), groupExtensions: root.tables('group-extensions').map(readEntry) };
}

export function serializeGroupToml(g: GroupToml): string {
  return stringifyToml({
    group: g.group.map(groupEntryToToml),
    'group-extensions': g.groupExtensions.length > 0 ? g.groupExtensions.map(groupEntryToToml) : undefined,
  });
}
