/**
 * What detection needs to know about a buildpack or image extension, however it was looked up, and the
 * lookup function the detector is given (digest §3.1: `<buildpacks>/<escaped-id>/<version>/buildpack.toml`).
 */
import type { BuildpackDir } from '../files/buildpack-dir.js';
import type { OrderGroup } from '../files/module-ref.js';
import type { Target } from '../target.js';

export type ModuleKind = 'buildpack' | 'extension';

export interface ModuleInfo {
  kind: ModuleKind;
  id: string;
  version: string;
  /** Buildpack API of the module. */
  api: string;
  homepage?: string;
  /** Absolute root (`CNB_BUILDPACK_DIR` / `CNB_EXTENSION_DIR`). */
  dir: string;
  clearEnv: boolean;
  /** Effective targets (declared or inferred). */
  targets: Target[];
  /** Execution environments of the descriptor; empty = all. */
  execEnv: string[];
  /** Non-empty for composite buildpacks, which are expanded instead of run. */
  order: OrderGroup[];
}

export type ModuleLookup = (kind: ModuleKind, id: string, version: string) => Promise<ModuleInfo>;

export function moduleInfoOf(bp: BuildpackDir): ModuleInfo {
  const d = bp.descriptor;
  return {
    kind: 'buildpack',
    id: d.buildpack.id,
    version: d.buildpack.version,
    api: d.api,
    homepage: d.buildpack.homepage,
    dir: bp.dir,
    clearEnv: d.buildpack.clearEnv,
    targets: bp.targets,
    execEnv: d.buildpack.execEnv,
    order: d.order,
  };
}
