/**
 * buildpack.toml, the buildpack descriptor (digest §2.1, buildpack spec "buildpack.toml").
 *
 * A component buildpack has `bin/detect` + `bin/build`; a composite has a non-empty `[[order]]` and no
 * executables. The API version is only checked for syntax here; whether it is supported is decided where the
 * buildpack is used (`checkBuildpackApi`, exit 12).
 */
import { parseApiVersion } from '../api.js';
import { checkBuildpackId, checkBuildpackVersion } from '../ids.js';
import { anyTarget, type Target } from '../target.js';
import { Fields } from './fields.js';
import { orderToToml, readExecEnv, readOrder, type OrderGroup } from './module-ref.js';
import { readTarget, targetToToml } from './targets.js';
import { canonical, parseToml, stringifyToml, type TomlTable } from './toml.js';

export interface License {
  type?: string;
  uri?: string;
}

/** Deprecated `[[stacks]]` (Buildpack API < 0.10). */
export interface Stack {
  id: string;
  mixins: string[];
}

export interface BuildpackInfo {
  id: string;
  version: string;
  name?: string;
  homepage?: string;
  description?: string;
  keywords: string[];
  /** true: user env from `<platform>/env` is not given to detect/build (digest §2.8). */
  clearEnv: boolean;
  /** SBOM media types the buildpack may write (digest §2.9). */
  sbomFormats: string[];
  licenses: License[];
  /** Execution environments the buildpack supports; empty = all (`*` also means all). */
  execEnv: string[];
}

export interface BuildpackDescriptor {
  api: string;
  buildpack: BuildpackInfo;
  /** `[[targets]]` as declared (may be empty; see `effectiveTargets`). */
  targets: Target[];
  /** Non-empty for composite buildpacks. */
  order: OrderGroup[];
  stacks: Stack[];
  metadata?: Record<string, unknown>;
}

const HINT = 'fix buildpack.toml; see https://github.com/buildpacks/spec/blob/main/buildpack.md#buildpacktoml-toml';

/** Parses and validates buildpack.toml text. `file` names it in errors. */
export function parseBuildpackToml(text: string, file = 'buildpack.toml'): BuildpackDescriptor {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  const api = root.requiredString('api');
  try {
    parseApiVersion(api);
  } catch {
    root.fail('api', `"${api}" is not an API version (<major>.<minor>)`);
  }
  const bp = root.table('buildpack') ?? root.fail('buildpack', 'the [buildpack] table is required');
  const id = bp.requiredString('id');
  const idWhy = checkBuildpackId(id);
  if (idWhy) bp.fail('id', idWhy);
  const version = bp.requiredString('version');
  const vWhy = checkBuildpackVersion(version);
  if (vWhy) bp.fail('version', `"${version}" ${vWhy}`);

  const order = readOrder(root, 'order');
  order.forEach((g, i) => {
    if (g.group.length === 0) root.fail(`order[${i}].group`, 'a composite buildpack group must list at least one buildpack');
  });
  const stacks = root.tables('stacks').map((s) => ({ id: s.requiredString('id'), mixins: s.strings('mixins') ?? [] }));
  if (order.length > 0 && stacks.length > 0) {
    root.fail('stacks', 'must not be given together with [[order]]', 'remove [[stacks]] from this composite buildpack');
  }
  return {
    api,
    buildpack: {
      id,
      version,
      name: bp.string('name'),
      homepage: bp.string('homepage'),
      description: bp.string('description'),
      keywords: bp.strings('keywords') ?? [],
      clearEnv: bp.boolean('clear-env') ?? false,
      sbomFormats: bp.strings('sbom-formats') ?? [],
      licenses: bp.tables('licenses').map((l) => ({ type: l.string('type'), uri: l.string('uri') })),
      execEnv: readExecEnv(bp),
    },
    targets: root.tables('targets').map(readTarget),
    order,
    stacks,
    metadata: root.freeform('metadata'),
  };
}

/** Deterministic buildpack.toml text (exec-env in the reference/pack string-array form). */
export function serializeBuildpackToml(d: BuildpackDescriptor): string {
  const b = d.buildpack;
  const doc: TomlTable = {
    api: d.api,
    buildpack: {
      id: b.id,
      version: b.version,
      name: b.name,
      homepage: b.homepage,
      description: b.description,
      keywords: b.keywords.length > 0 ? b.keywords : undefined,
      'clear-env': b.clearEnv ? true : undefined,
      'sbom-formats': b.sbomFormats.length > 0 ? b.sbomFormats : undefined,
      licenses: b.licenses.length > 0 ? b.licenses.map((l) => ({ type: l.type, uri: l.uri })) : undefined,
      'exec-env': b.execEnv.length > 0 ? b.execEnv : undefined,
    },
    targets: d.targets.length > 0 ? d.targets.map(targetToToml) : undefined,
    order: d.order.length > 0 ? orderToToml(d.order) : undefined,
    stacks: d.stacks.length > 0 ? d.stacks.map((s) => ({ id: s.id, mixins: s.mixins.length > 0 ? s.mixins : undefined })) : undefined,
    metadata: d.metadata && canonical(d.metadata),
  };
  return stringifyToml(doc);
}

export function isComposite(d: BuildpackDescriptor): boolean {
  return d.order.length > 0;
}

const BIONIC = 'io.buildpacks.stacks.bionic';

/**
 * The targets a buildpack is matched against (digest §2.1): the declared `[[targets]]`; else those implied by
 * deprecated `[[stacks]]` (bionic → linux/amd64 ubuntu 18.04, `*` → any); else inferred from `bin/`
 * (`build` → linux, `build.bat`/`build.exe` → windows); else any target. `binFiles` are the names in `bin/`.
 */
export function effectiveTargets(d: BuildpackDescriptor, binFiles: readonly string[]): Target[] {
  if (d.targets.length > 0) return d.targets;
  const fromStacks: Target[] = [];
  for (const s of d.stacks) {
    if (s.id === BIONIC) fromStacks.push({ os: 'linux', arch: 'amd64', variant: '', distros: [{ name: 'ubuntu', version: '18.04' }] });
    else if (s.id === '*') fromStacks.push(anyTarget());
  }
  if (fromStacks.length > 0) return fromStacks;
  const inferred: Target[] = [];
  if (binFiles.includes('build')) inferred.push({ ...anyTarget(), os: 'linux' });
  if (binFiles.includes('build.bat') || binFiles.includes('build.exe')) inferred.push({ ...anyTarget(), os: 'windows' });
  return inferred.length > 0 ? inferred : [anyTarget()];
}
