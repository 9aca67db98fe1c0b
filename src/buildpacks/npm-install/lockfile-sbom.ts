/**
 * The installed packages, from npm's lockfiles: the hidden lockfile `node_modules/.package-lock.json`
 * (npm ≥ 7: exactly what is installed) or a `package-lock.json`/`npm-shrinkwrap.json` (version 1 nested
 * `dependencies`, or version 2/3 `packages`). Workspace links and the root are not components.
 */
import { type SbomComponent, hashesFromIntegrity, npmPurl } from '../sdk/index.js';

interface V2Entry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  link?: boolean;
}

interface V1Entry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  dependencies?: Record<string, V1Entry>;
}

export interface LockedPackage {
  name: string;
  version: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev: boolean;
}

/** The package name of a `packages` key: the part after the last `node_modules/`. */
function nameOfKey(key: string): string {
  const i = key.lastIndexOf('node_modules/');
  return i < 0 ? key : key.slice(i + 'node_modules/'.length);
}

export function lockedPackages(lock: unknown): LockedPackage[] {
  const out: LockedPackage[] = [];
  const l = (lock ?? {}) as { packages?: Record<string, V2Entry>; dependencies?: Record<string, V1Entry> };
  if (l.packages && typeof l.packages === 'object') {
    for (const [key, e] of Object.entries(l.packages)) {
      if (!key || !key.includes('node_modules/') || e.link || !e.version) continue;
      out.push({
        name: e.name ?? nameOfKey(key),
        version: e.version,
        dev: e.dev === true,
        ...(e.resolved ? { resolved: e.resolved } : {}),
        ...(e.integrity ? { integrity: e.integrity } : {}),
        ...(typeof e.license === 'string' ? { license: e.license } : {}),
      });
    }
    return out;
  }
  const walk = (deps: Record<string, V1Entry> | undefined): void => {
    for (const [name, e] of Object.entries(deps ?? {})) {
      if (e.version && !e.version.startsWith('file:')) {
        out.push({ name, version: e.version, dev: e.dev === true, ...(e.resolved ? { resolved: e.resolved } : {}), ...(e.integrity ? { integrity: e.integrity } : {}) });
      }
      walk(e.dependencies);
    }
  };
  walk(l.dependencies);
  return out;
}

export function components(pkgs: readonly LockedPackage[], opts: { includeDev: boolean }): SbomComponent[] {
  return pkgs
    .filter((p) => opts.includeDev || !p.dev)
    .map((p) => ({
      name: p.name,
      version: p.version,
      purl: npmPurl(p.name, p.version),
      hashes: hashesFromIntegrity(p.integrity),
      ...(p.license ? { license: p.license } : {}),
      ...(p.resolved && /^https?:/.test(p.resolved) ? { downloadUrl: p.resolved } : {}),
    }));
}
