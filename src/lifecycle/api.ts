/**
 * Buildpack and Platform API versions (digest §1, reference `api/version.go`, `api/apis.go`).
 *
 * A version string is `<major>.<minor>` or `<major>` (= `<major>.0`), unsigned decimal integers. For `0.x`
 * every minor is its own, possibly breaking, API; from `1.0` on minors are additive. So a supported `0.x`
 * accepts only that exact `0.x`, and a supported `X.n` accepts `X.0` … `X.n`.
 */
import { CairnError } from '../oci/errors.js';
import { ExitCode, LifecycleError, type ModuleIdentity, type Phase } from './exit-codes.js';

export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

const VERSION = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

/** Parses `"0.12"` or `"1"`. Throws INVALID_ARGUMENT for anything else (no `v` prefix, no leading zeros). */
export function parseApiVersion(s: string): ApiVersion {
  const m = VERSION.exec(s);
  if (!m || !Number.isSafeInteger(Number(m[1])) || !Number.isSafeInteger(Number(m[2] ?? '0'))) {
    throw new CairnError('INVALID_ARGUMENT', `invalid API version "${s}"`, {
      hint: 'an API version is <major>.<minor> or <major>, e.g. "0.12"',
    });
  }
  return { major: Number(m[1]), minor: Number(m[2] ?? '0') };
}

/** `"<major>.<minor>"`. */
export function formatApiVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

export function compareApiVersions(a: ApiVersion, b: ApiVersion): -1 | 0 | 1 {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  return 0;
}

/** `v >= min`, with `min` given as a string, e.g. `atLeast(api, '0.12')`. */
export function atLeast(v: ApiVersion, min: string): boolean {
  return compareApiVersions(v, parseApiVersion(min)) >= 0;
}

/** Whether an implementation of `supported` can serve a consumer written against `target` (reference `IsSupersetOf`). */
export function isSupersetOf(supported: ApiVersion, target: ApiVersion): boolean {
  if (supported.major === 0) return compareApiVersions(supported, target) === 0;
  return supported.major === target.major && supported.minor >= target.minor;
}

/** The API versions cairn's lifecycle implements (the brief: Buildpack 0.10–0.12, Platform 0.13–0.15). */
export const SUPPORTED_BUILDPACK_APIS: readonly ApiVersion[] = ['0.10', '0.11', '0.12'].map(parseApiVersion);
export const SUPPORTED_PLATFORM_APIS: readonly ApiVersion[] = ['0.13', '0.14', '0.15'].map(parseApiVersion);

export function isSupported(supported: readonly ApiVersion[], target: ApiVersion): boolean {
  return supported.some((s) => isSupersetOf(s, target));
}

/** The highest version of a non-empty list. */
export function latestApi(list: readonly ApiVersion[]): ApiVersion {
  return list.reduce((a, b) => (compareApiVersions(a, b) >= 0 ? a : b));
}

function listText(list: readonly ApiVersion[]): string {
  return list.map(formatApiVersion).join(', ');
}

/**
 * Checks `CNB_PLATFORM_API` (§4.0: checked first; the reference treats unset as an error). Throws a
 * LifecycleError with exit code 11 when it is unset, malformed or unsupported.
 */
export function checkPlatformApi(value: string | undefined, phase: Phase): ApiVersion {
  const fail = (why: string): never => {
    throw new LifecycleError('INCOMPATIBLE_PLATFORM_API', `platform API ${why}`, {
      phase,
      exitCode: ExitCode.incompatiblePlatformApi,
      hint: `set CNB_PLATFORM_API to one of: ${listText(SUPPORTED_PLATFORM_APIS)}`,
    });
  };
  if (value === undefined || value === '') return fail('is not set (CNB_PLATFORM_API)');
  let v: ApiVersion;
  try {
    v = parseApiVersion(value);
  } catch {
    return fail(`"${value}" is not a valid API version`);
  }
  if (!isSupported(SUPPORTED_PLATFORM_APIS, v)) return fail(`${formatApiVersion(v)} is not supported`);
  return v;
}

/**
 * Checks the `api` of a buildpack (or extension) about to take part in a build. Throws a LifecycleError with
 * exit code 12 when it is malformed or unsupported.
 */
export function checkBuildpackApi(value: string, module: ModuleIdentity, phase: Phase): ApiVersion {
  const fail = (why: string): never => {
    throw new LifecycleError('INCOMPATIBLE_BUILDPACK_API', `buildpack API ${why}`, {
      phase,
      exitCode: ExitCode.incompatibleBuildpackApi,
      buildpack: module,
      hint: `this lifecycle supports Buildpack API ${listText(SUPPORTED_BUILDPACK_APIS)}; use a buildpack version built for one of them`,
    });
  };
  let v: ApiVersion;
  try {
    v = parseApiVersion(value);
  } catch {
    return fail(`"${value}" is not a valid API version`);
  }
  if (!isSupported(SUPPORTED_BUILDPACK_APIS, v)) return fail(`${formatApiVersion(v)} is not supported`);
  return v;
}
