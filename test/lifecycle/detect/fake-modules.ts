// Test helper: an in-memory module lookup for detection tests.
import type { ModuleRef, OrderGroup } from '../../../src/lifecycle/files/module-ref.js';
import type { ModuleInfo, ModuleKind, ModuleLookup } from '../../../src/lifecycle/detect/module.js';
import type { Target } from '../../../src/lifecycle/target.js';

export function ref(id: string, opts: Partial<ModuleRef> = {}): ModuleRef {
  return { id, version: '1.0.0', optional: false, execEnv: [], ...opts };
}

export function module(id: string, opts: Partial<ModuleInfo> = {}): ModuleInfo {
  return { kind: 'buildpack', id, version: '1.0.0', api: '0.12', dir: `/cnb/buildpacks/${id}/1.0.0`, clearEnv: false, targets: [], execEnv: [], order: [], ...opts };
}

export function composite(id: string, groups: ModuleRef[][], opts: Partial<ModuleInfo> = {}): ModuleInfo {
  return module(id, { order: groups.map((group): OrderGroup => ({ group })), ...opts });
}

/** A lookup over the given modules that counts calls. */
export function lookupOf(mods: ModuleInfo[]): ModuleLookup & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (kind: ModuleKind, id: string, version: string) => {
    calls.push(`${kind}:${id}`);
    const m = mods.find((x) => x.kind === kind && x.id === id && x.version === version);
    if (!m) throw new Error(`no ${kind} ${id}@${version}`);
    return m;
  };
  return Object.assign(fn, { calls });
}

export const linuxAmd64: Target = { os: 'linux', arch: 'amd64', variant: '', distros: [] };
