/**
 * Layer path variables (digest §2.7, §2.8): a layer's `bin/`, `lib/`, … prepended, with `:`, to the variables
 * they feed. As in the reference (`env.AddRootDir`), a sub-path counts when it exists at all.
 * Build: only `build = true` layers of earlier buildpacks; launch: every layer in the image.
 */
import type { Env } from './env.js';

/** Sub-directory → variables, at build time. */
export const BUILD_LAYER_PATHS: Readonly<Record<string, readonly string[]>> = {
  bin: ['PATH'],
  lib: ['LD_LIBRARY_PATH', 'LIBRARY_PATH'],
  include: ['CPATH'],
  pkgconfig: ['PKG_CONFIG_PATH'],
};

/** The env directories of a build layer, in the order they apply (the launch side is the C launcher's). */
export const BUILD_ENV_DIRS: readonly string[] = ['env', 'env.build'];

/** The variables a map feeds (build: PATH, LD_LIBRARY_PATH, LIBRARY_PATH, CPATH, PKG_CONFIG_PATH). */
export function layerPathVariables(map: Readonly<Record<string, readonly string[]>>): string[] {
  return Object.values(map).flat();
}

/**
 * Prepends `<layerDir>/<sub>` to each variable of every sub-directory in `present`. Applying layers one
 * after another leaves the last-applied layer first in each value.
 */
export function addLayerPaths(env: Env, layerDir: string, present: ReadonlySet<string>, map: Readonly<Record<string, readonly string[]>>): Env {
  let out = env;
  for (const [sub, vars] of Object.entries(map)) {
    if (!present.has(sub)) continue;
    const dir = `${layerDir}/${sub}`;
    for (const v of vars) {
      const current = out.get(v);
      out = out.set(v, current === '' ? dir : `${dir}:${current}`);
    }
  }
  return out;
}
