/**
 * project.toml, the project descriptor (buildpacks/spec extensions/project-descriptor.md, schema 0.2), read
 * and checked; `cairn build --descriptor` applies it. Only the `[_]` and `[io.buildpacks]` tables are read;
 * other top-level tables belong to other tools and are ignored, as the spec asks. Inside those two tables
 * unknown keys are errors (a typo such as `exlude` would otherwise silently build the wrong files).
 *
 * Schema 0.2:
 *   [_] schema-version = "0.2", id, name, version, authors, documentation-url, source-url,
 *       [[_.licenses]] type / uri, [_.metadata] (free-form)
 *   [io.buildpacks] builder, include | exclude (not both), [[io.buildpacks.build.env]] name / value,
 *       [[io.buildpacks.group]], [[io.buildpacks.pre.group]], [[io.buildpacks.post.group]]: id / version / uri
 *       ([io.buildpacks.group.script] api / inline / shell for inline buildpacks, main group only)
 * A schema 0.1 file (`[project]`, `[build]`) is refused with a hint to migrate.
 *
 * Input is untrusted: the document is bounded in size (MAX_PROJECT_TOML_BYTES) and nesting depth before
 * anything else reads it. Every error is INVALID_ARGUMENT naming the file and the dotted key.
 */
import { parse } from 'smol-toml';
import { CairnError, messageOf } from '../oci/errors.js';
import { checkBuildpackId, checkBuildpackVersion } from '../lifecycle/ids.js';
import { StrictTable } from '../builder/strict-toml.js';

/** Largest project.toml accepted, in bytes. */
export const MAX_PROJECT_TOML_BYTES = 1024 * 1024;
/** Deepest nesting accepted (tables and arrays, `[_.metadata]` included). */
export const MAX_PROJECT_TOML_DEPTH = 32;

export interface ProjectLicense {
  type?: string;
  uri?: string;
}

export interface ProjectInfo {
  schemaVersion: '0.2';
  id?: string;
  name?: string;
  version?: string;
  authors: string[];
  documentationUrl?: string;
  sourceUrl?: string;
  licenses: ProjectLicense[];
  /** `[_.metadata]`, free-form. */
  metadata: Record<string, unknown>;
}

export interface ProjectGroupEntry {
  id?: string;
  version?: string;
  uri?: string;
  /** An inline buildpack (`[io.buildpacks.group.script]`): `id` is then required. */
  script?: { api: string; inline: string; shell: string };
}

export interface ProjectBuildEnv {
  name: string;
  value: string;
}

export interface ProjectDescriptor {
  project: ProjectInfo;
  builder?: string;
  /** Gitignore-style patterns of app files to keep (only these), or to drop; never both. */
  include?: string[];
  exclude?: string[];
  buildEnv: ProjectBuildEnv[];
  group: ProjectGroupEntry[];
  preGroup: ProjectGroupEntry[];
  postGroup: ProjectGroupEntry[];
}

const HINT = 'see https://github.com/buildpacks/spec/blob/main/extensions/project-descriptor.md (schema 0.2)';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(file: string, message: string, hint = HINT): CairnError {
  return new CairnError('INVALID_ARGUMENT', `${file}: ${message}`, { hint });
}

/** Depth of nested tables/arrays, giving up (returning limit + 1) past `limit`; iterative (no recursion). */
function tooDeep(doc: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[doc, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object' || v instanceof Date) continue;
    if (d >= limit) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, d + 1]);
  }
  return false;
}

/** Parses and checks a project.toml; `file` names it in errors. */
export function parseProjectToml(text: string, file = 'project.toml'): ProjectDescriptor {
  if (Buffer.byteLength(text, 'utf8') > MAX_PROJECT_TOML_BYTES) {
    throw invalid(file, `larger than ${MAX_PROJECT_TOML_BYTES} bytes`, 'a project descriptor is a few lines; check the file');
  }
  let raw: Record<string, unknown>;
  try {
    raw = parse(text, { maxDepth: MAX_PROJECT_TOML_DEPTH }) as Record<string, unknown>;
  } catch (e) {
    throw new CairnError('INVALID_ARGUMENT', `${file} is not valid TOML: ${messageOf(e).split('\n')[0]}`, { cause: e, hint: HINT });
  }
  if (tooDeep(raw, MAX_PROJECT_TOML_DEPTH)) throw invalid(file, `nested deeper than ${MAX_PROJECT_TOML_DEPTH} levels`, 'a project descriptor is shallow; check the file');
  const root = StrictTable.fromParsed(raw, file, HINT);
  if (!root.has('_')) {
    if (root.has('project') || root.has('build')) {
      throw invalid(file, 'is a schema 0.1 descriptor ([project], [build]); cairn reads schema 0.2', 'move [project] to [_] with schema-version = "0.2" and [build] to [io.buildpacks]; ' + HINT);
    }
    throw invalid(file, 'has no [_] table with schema-version = "0.2"');
  }
  const info = root.table('_')!.allow(['schema-version', 'id', 'name', 'version', 'authors', 'documentation-url', 'source-url', 'licenses', 'metadata']);
  const schema = info.string('schema-version');
  if (schema === undefined) info.fail('schema-version', 'is required ("0.2")');
  if (schema !== '0.2') info.fail('schema-version', `"${schema}" is not supported: cairn reads schema 0.2`);
  const project: ProjectInfo = {
    schemaVersion: '0.2',
    ...optional('id', info.string('id')),
    ...optional('name', info.string('name')),
    ...optional('version', info.string('version')),
    authors: info.strings('authors') ?? [],
    ...optional('documentationUrl', info.string('documentation-url')),
    ...optional('sourceUrl', info.string('source-url')),
    licenses: info.tables('licenses').map((l) => {
      l.allow(['type', 'uri']);
      const out: ProjectLicense = { ...optional('type', l.string('type')), ...optional('uri', l.string('uri')) };
      if (out.type === undefined && out.uri === undefined) l.fail('type', 'or uri is required');
      return out;
    }),
    metadata: info.table('metadata')?.raw ?? {},
  };

  const io = root.table('io');
  const bp = io?.table('buildpacks');
  const desc: ProjectDescriptor = { project, buildEnv: [], group: [], preGroup: [], postGroup: [] };
  if (!bp) return desc;
  bp.allow(['builder', 'include', 'exclude', 'build', 'group', 'pre', 'post']);
  const builder = bp.string('builder');
  if (builder !== undefined) {
    if (builder.trim() === '') bp.fail('builder', 'must not be empty');
    desc.builder = builder;
  }
  const include = bp.strings('include');
  const exclude = bp.strings('exclude');
  if (include !== undefined && exclude !== undefined) bp.fail('include', 'and exclude cannot both be set', 'keep one: include lists the only files to build, exclude the files to leave out');
  if (include !== undefined) desc.include = include;
  if (exclude !== undefined) desc.exclude = exclude;
  const build = bp.table('build')?.allow(['env']);
  const seen = new Set<string>();
  for (const e of build?.tables('env') ?? []) {
    e.allow(['name', 'value']);
    const name = e.requiredString('name');
    if (!ENV_NAME.test(name)) e.fail('name', `"${name}" is not an environment variable name`);
    if (seen.has(name)) e.fail('name', `"${name}" is set twice`);
    seen.add(name);
    const value = e.string('value') ?? e.fail('value', 'is required (use "" for an empty value)');
    desc.buildEnv.push({ name, value });
  }
  desc.group = bp.tables('group').map((g) => groupEntry(g, true));
  desc.preGroup = (bp.table('pre')?.allow(['group']).tables('group') ?? []).map((g) => groupEntry(g, false));
  desc.postGroup = (bp.table('post')?.allow(['group']).tables('group') ?? []).map((g) => groupEntry(g, false));
  return desc;
}

function groupEntry(g: StrictTable, scripts: boolean): ProjectGroupEntry {
  g.allow(scripts ? ['id', 'version', 'uri', 'script'] : ['id', 'version', 'uri']);
  const out: ProjectGroupEntry = { ...optional('id', g.string('id')), ...optional('version', g.string('version')), ...optional('uri', g.string('uri')) };
  if (out.id !== undefined) {
    const why = checkBuildpackId(out.id);
    if (why) g.fail('id', `"${out.id}" ${why}`);
  }
  if (out.version !== undefined) {
    const why = checkBuildpackVersion(out.version);
    if (why) g.fail('version', `"${out.version}" ${why}`);
    if (out.id === undefined) g.fail('version', 'needs an id');
  }
  if (out.uri !== undefined && out.uri.trim() === '') g.fail('uri', 'must not be empty');
  const script = scripts ? g.table('script') : undefined;
  if (script) {
    script.allow(['api', 'inline', 'shell']);
    if (out.id === undefined) g.fail('id', 'is required for an inline buildpack (script)');
    if (out.uri !== undefined) g.fail('uri', 'and script cannot both be set');
    out.script = { api: script.requiredString('api'), inline: script.requiredString('inline'), shell: script.string('shell') ?? '/bin/sh' };
  }
  if (out.id === undefined && out.uri === undefined) g.fail('id', 'or uri is required');
  return out;
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}
