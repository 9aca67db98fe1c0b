/**
 * Identifier rules shared by the CNB files (digest §1, buildpack spec "buildpack.toml", "launch.toml").
 * Each `check*` returns undefined when valid, else a short reason; callers wrap it in an error naming the file.
 */
import semver from 'semver';

const ID_CHARS = /^[A-Za-z0-9./-]+$/;
const RESERVED_IDS = new Set(['app', 'config', 'generated', 'sbom']);

/** Buildpack ID: letters, digits, `.`, `/`, `-`; not `app`, `config`, `generated`, `sbom`. */
export function checkBuildpackId(id: string): string | undefined {
  if (id === '') return 'must not be empty';
  if (!ID_CHARS.test(id)) return 'may contain only letters, digits and the characters . / -';
  if (RESERVED_IDS.has(id)) return `"${id}" is reserved (app, config, generated and sbom are)`;
  return undefined;
}

/**
 * Buildpack version: `X.Y.Z`, non-negative integers without leading zeros. Pre-release and build suffixes of
 * semver are tolerated (the reference lifecycle does not check versions at all); a `v` prefix is not.
 */
export function checkBuildpackVersion(version: string): string | undefined {
  if (semver.valid(version) !== version) return 'must be <X>.<Y>.<Z> with non-negative integers and no leading zeros';
  return undefined;
}

const PROCESS_TYPE = /^[A-Za-z0-9._-]+$/;

/** Process type: letters, digits, `.`, `_`, `-` (buildpack spec "launch.toml"). */
export function checkProcessType(type: string): string | undefined {
  if (!PROCESS_TYPE.test(type)) return 'may contain only letters, digits and the characters . _ -';
  return undefined;
}

/** Execution environment name (`production`, `test`, …, or `*`): non-empty, no `/` (digest §2.2). */
export function checkExecEnvName(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.includes('/')) return 'must not contain "/"';
  return undefined;
}

/** Layer names that would collide with `<layers>/<bp>/{build,launch,store}.toml` (digest §2.3). */
export const RESERVED_LAYER_NAMES: ReadonlySet<string> = new Set(['build', 'launch', 'store']);

/** The directory name of an ID on disk: every `/` becomes `_` (digest §1, reference `EscapeID`). */
export function escapeId(id: string): string {
  return id.replaceAll('/', '_');
}
