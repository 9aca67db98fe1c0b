/**
 * A tiny build-image root filesystem made from the host's bash and coreutils, for sandboxed phase tests.
 *
 * Holds the listed programs and the shared libraries `ldd` names (each at its real path, with the host's
 * links, e.g. /bin/sh → dash and merged /usr, reproduced as symlinks), `/etc/passwd` and `/etc/group` with
 * the CNB user 1000 (`cnb`), `/etc/os-release`, and empty mount points for the sandbox
 * (`/workspace`, `/layers`, `/platform`, `/cnb/buildpacks`, `/cnb/build-config`, `/tmp`, `/proc`, `/dev`).
 * Made once per host and program list, cached under os.tmpdir(), built beside and renamed into place.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const TEST_ROOTFS_PROGRAMS = [
  '/bin/bash',
  '/bin/sh',
  '/usr/bin/env',
  '/bin/mkdir',
  '/bin/cat',
  '/bin/echo',
  '/bin/touch',
  '/bin/ls',
  '/bin/cp',
  '/bin/chmod',
  '/bin/ln',
  '/bin/rm',
  '/bin/mv',
  '/usr/bin/id',
];

export const TEST_ROOTFS_UID = 1000;
export const TEST_ROOTFS_GID = 1000;

/** The mount points a sandbox over this rootfs may bind onto. */
const MOUNT_POINTS = ['workspace', 'layers', 'platform', 'cnb/buildpacks', 'cnb/build-config', 'tmp', 'proc', 'dev', 'home/cnb'];

function libsOf(program: string): string[] {
  const out = execFileSync('ldd', [program], { encoding: 'utf8' });
  return [...out.matchAll(/(\/[^\s]+)\s+\(0x/g)].map((m) => m[1]!);
}

/** Copies `path` (following links) to its real path under `root`, and recreates `path` itself as a link if it is one. */
function place(root: string, path: string): void {
  const real = realpathSync(path);
  const dest = join(root, real);
  if (!existsSync(dest)) {
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(real, dest);
  }
  const linkAt = join(realpathSync(dirname(path)), basename(path));
  if (linkAt !== real && !existsSync(join(root, linkAt))) {
    mkdirSync(dirname(join(root, linkAt)), { recursive: true });
    symlinkSync(real, join(root, linkAt));
  }
}

function build(root: string): void {
  for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const p = `/${top}`;
    if (existsSync(p) && lstatSync(p).isSymbolicLink()) symlinkSync(readlinkSync(p), join(root, top));
  }
  for (const prog of TEST_ROOTFS_PROGRAMS) {
    place(root, prog);
    for (const lib of libsOf(realpathSync(prog))) place(root, lib);
  }
  for (const d of MOUNT_POINTS) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/bash\ncnb:x:${TEST_ROOTFS_UID}:${TEST_ROOTFS_GID}:cnb:/home/cnb:/bin/bash\n`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\ncnb:x:${TEST_ROOTFS_GID}:\n`);
  writeFileSync(join(root, 'etc/os-release'), 'ID=testos\nVERSION_ID="1.0"\n');
}

/** Path of the cached test rootfs (made on first use). */
export function testRootfs(): string {
  const key = createHash('sha256')
    .update(JSON.stringify(TEST_ROOTFS_PROGRAMS.map((p) => [p, statSync(p).mtimeMs])))
    .update(MOUNT_POINTS.join(','))
    .digest('hex')
    .slice(0, 16);
  const root = join(tmpdir(), `cairn-test-rootfs-${key}`);
  if (existsSync(root)) return root;
  const next = `${root}.tmp-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  try {
    build(next);
    renameSync(next, root);
  } catch (e) {
    rmSync(next, { recursive: true, force: true });
    // Another process may have made it meanwhile.
    if (!existsSync(root)) throw e;
  }
  return root;
}
