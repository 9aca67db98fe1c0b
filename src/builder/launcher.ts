/**
 * The launcher a builder carries (`/cnb/lifecycle/launcher`): `src/lifecycle/launcher/launcher.c` compiled
 * statically with the build image's own gcc, in a bubblewrap sandbox over the build image's root
 * filesystem (no network), with `LAUNCHER_CFLAGS`. The compiler comes from the stack's locked packages,
 * so the binary is reproducible from the stack lock; it is cached by (build image digest, launcher.c
 * sha256, flags) under `cacheDir/<key>/launcher`.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../oci/digest.js';
import { CairnError } from '../oci/errors.js';
import type { Image } from '../oci/image.js';
import { LAUNCHER_CFLAGS, LAUNCHER_SOURCE } from '../lifecycle/launcher/compile.js';
import { resolveInRoot } from '../lifecycle/sandbox/in-root.js';
import type { Executor } from '../lifecycle/sandbox/executor.js';

export interface LauncherOptions {
  buildImage: Image;
  /** The build image's extracted root filesystem (`prepareRootfs`). Only read when the cache misses. */
  rootfs: () => Promise<string>;
  /** An executor over that root filesystem (`createBwrapExecutor({ rootfs })`). */
  executor: (rootfs: string) => Executor;
  cacheDir: string;
  /** The sandbox user (the build image's CNB user). */
  uid: number;
  gid: number;
  /** The launcher source (default: the one shipped with cairn). */
  source?: string;
  signal?: AbortSignal;
}

const MOUNT = '/cnb-launcher-src';
const GCC = '/usr/bin/gcc';

/** Returns the path of the launcher binary for this build image, compiling it on a cache miss. */
export async function launcherFor(opts: LauncherOptions): Promise<string> {
  const source = await readFile(opts.source ?? LAUNCHER_SOURCE);
  const key = sha256(JSON.stringify({ image: opts.buildImage.digest, source: sha256(source), flags: LAUNCHER_CFLAGS, gcc: GCC })).slice('sha256:'.length);
  const done = join(opts.cacheDir, key, 'launcher');
  if (await isFile(done)) return done;

  const rootfs = await opts.rootfs();
  if (!resolveInRoot(rootfs, GCC)) {
    throw new CairnError('INVALID_ARGUMENT', `the build image ${opts.buildImage.digest} has no ${GCC}: cairn compiles the launcher of a builder with the build image's C compiler`, {
      hint: 'use a build image with gcc and libc6-dev (cairn\'s stacks have them through g++), e.g. one made by `cairn stack create`',
    });
  }
  await mkdir(opts.cacheDir, { recursive: true, mode: 0o700 });
  const tmp = join(opts.cacheDir, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { mode: 0o700 });
  try {
    await copyFile(opts.source ?? LAUNCHER_SOURCE, join(tmp, 'launcher.c'));
    const r = await opts.executor(rootfs).run({
      argv: [GCC, ...LAUNCHER_CFLAGS, `-ffile-prefix-map=${MOUNT}=.`, '-o', 'launcher', 'launcher.c'],
      env: { PATH: '/usr/bin:/bin', HOME: '/tmp', LC_ALL: 'C', TMPDIR: '/tmp' },
      cwd: MOUNT,
      mounts: [{ host: tmp, sandbox: MOUNT, writable: true }],
      uid: opts.uid,
      gid: opts.gid,
      network: false,
      timeoutMs: 300_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (r.code !== 0) {
      throw new CairnError('INTERNAL', `compiling the launcher with the build image's gcc failed (exit ${r.code}):\n${r.output.trim().split('\n').slice(-15).join('\n')}`, {
        hint: 'the build image needs gcc and a static C library (libc6-dev); add g++ or build-essential to [build] packages of stack.toml',
      });
    }
    await rm(join(tmp, 'launcher.c'));
    await rename(tmp, join(opts.cacheDir, key)).catch(async (e: NodeJS.ErrnoException) => {
      // Another process compiled it first: use theirs.
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return done;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
