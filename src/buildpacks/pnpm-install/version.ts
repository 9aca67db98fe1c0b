/**
 * Which pnpm builds the app, first match wins: package.json `packageManager: pnpm@<exact version>`, then
 * `engines.pnpm` (any semver range), then the pnpm line that writes the lockfile's `lockfileVersion`
 * (9.x → the newest pnpm; 6.x → pnpm 8; 5.4 → pnpm 7; 5.3 → pnpm 6), the newest running on the Node.js
 * version. pnpm comes from the registry package `pnpm`.
 */
import semver from 'semver';
import { BuildpackError, type PackageManagerField } from '../sdk/index.js';

export interface PnpmInputs {
  packageManager?: PackageManagerField;
  enginesPnpm?: unknown;
  lockfile?: string;
}

export interface PnpmRequest {
  range: string;
  source: string;
}

/** `lockfileVersion` of a pnpm-lock.yaml (`'9.0'`, `5.4`), if any. */
export function lockfileVersion(text: string | undefined): string | undefined {
  const m = /^lockfileVersion:[ \t]*['"]?([\d.]+)['"]?/m.exec(text ?? '');
  return m?.[1];
}

const BY_LOCKFILE: readonly [string, string][] = [['5.3', '6.x'], ['5.4', '7.x'], ['6', '8.x']];

export function pnpmRequest(i: PnpmInputs): PnpmRequest {
  if (i.packageManager?.name === 'pnpm') return { range: i.packageManager.version, source: `package.json packageManager ${i.packageManager.raw}` };
  if (i.enginesPnpm !== undefined) {
    const raw = String(i.enginesPnpm).trim();
    if (semver.validRange(raw) === null) {
      throw new BuildpackError(`package.json engines.pnpm ${JSON.stringify(raw)} is not a supported version spec`, { hint: 'write a semver range, e.g. "9.x" or ">=9", or set "packageManager": "pnpm@<version>"' });
    }
    return { range: raw, source: 'package.json engines.pnpm' };
  }
  const lv = lockfileVersion(i.lockfile);
  const line = lv === undefined ? undefined : BY_LOCKFILE.find(([v]) => lv === v || lv.startsWith(`${v}.`))?.[1];
  if (line) return { range: line, source: `pnpm-lock.yaml lockfileVersion ${lv}: pnpm ${line}` };
  return { range: '*', source: 'no version given: the newest pnpm' };
}
