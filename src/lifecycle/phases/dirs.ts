/**
 * The folders a build works in, seen from two sides: `host` is where cairn itself reads and writes them;
 * `sandbox` is where bin/detect and bin/build see them (Platform API §4.1 defaults: /workspace, /layers,
 * /platform, /cnb/buildpacks, /cnb/build-config). With the host executor (cairn running inside the build
 * image) both sides are the same paths.
 */
import { join, relative, sep } from 'node:path';
import type { Mount } from '../sandbox/executor.js';

export interface DirSet {
  app: string;
  layers: string;
  platform: string;
  buildpacks: string;
  buildConfig: string;
}

export interface BuildDirs {
  host: DirSet;
  sandbox: DirSet;
}

export const SANDBOX_DIRS: DirSet = {
  app: '/workspace',
  layers: '/layers',
  platform: '/platform',
  buildpacks: '/cnb/buildpacks',
  buildConfig: '/cnb/build-config',
};

/**
 * Dirs for a build whose work folder is `work` (holding `workspace/`, `layers/`, `platform/`) over a build
 * image root filesystem `rootfs` (holding `/cnb/buildpacks`, `/cnb/build-config`).
 */
export function sandboxedDirs(work: string, rootfs: string): BuildDirs {
  return {
    host: {
      app: join(work, 'workspace'),
      layers: join(work, 'layers'),
      platform: join(work, 'platform'),
      buildpacks: join(rootfs, 'cnb', 'buildpacks'),
      buildConfig: join(rootfs, 'cnb', 'build-config'),
    },
    sandbox: SANDBOX_DIRS,
  };
}

/** Dirs when cairn runs inside the build image itself: both sides are the given paths. */
export function identityDirs(dirs: DirSet): BuildDirs {
  return { host: dirs, sandbox: dirs };
}

/** The sandbox path of a host path under one of the dirs (layers, app, platform, buildpacks, build-config). */
export function toSandbox(dirs: BuildDirs, hostPath: string): string {
  for (const k of Object.keys(dirs.host) as (keyof DirSet)[]) {
    const rel = relative(dirs.host[k], hostPath);
    if (rel === '') return dirs.sandbox[k];
    if (!rel.startsWith('..') && !rel.startsWith(sep)) return join(dirs.sandbox[k], rel);
  }
  throw new Error(`internal: ${hostPath} is not under a build folder`);
}

/** A mount of one build folder (or a sub-folder of it) into the sandbox. */
export function mountOf(dirs: BuildDirs, hostPath: string, writable: boolean): Mount {
  return { host: hostPath, sandbox: toSandbox(dirs, hostPath), writable };
}
