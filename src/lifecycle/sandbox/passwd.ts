/**
 * The home folder of a user, from the build image's `/etc/passwd` (passwd(5): `name:password:uid:gid:gecos:home:shell`).
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { resolveInRoot } from './in-root.js';

const MAX_PASSWD_BYTES = 4 * 1024 * 1024;

/** The home of `uid` in passwd text, when it is a usable absolute path other than `/`. */
export function homeOf(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || f[2] !== String(uid)) continue;
    const home = f[5]!;
    if (!home.startsWith('/') || home.includes('\0')) return undefined;
    const norm = posix.normalize(home).replace(/\/+$/, '');
    return norm === '' ? undefined : norm;
  }
  return undefined;
}

/** The home of `uid` in the root filesystem at `rootfs`, or undefined (no passwd file, no entry, odd path). */
export function rootfsHomeOf(rootfs: string, uid: number): string | undefined {
  const f = resolveInRoot(rootfs, '/etc/passwd');
  if (!f || !f.stats.isFile() || f.stats.size > MAX_PASSWD_BYTES) return undefined;
  return homeOf(readFileSync(f.host, 'utf8'), uid);
}
