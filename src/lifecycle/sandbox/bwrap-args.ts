/**
 * The bubblewrap arguments for one process: namespaces and identity, the exact environment, the read-only
 * root filesystem, the system mounts, the spec's mounts in order, then the working directory.
 *
 * Layout of the sandbox:
 * - the build image's tree, read-only (see rootfs-view.ts), then `/dev` (bwrap's minimal devtmpfs), `/proc`,
 *   a tmpfs at `/tmp` (1777) and at the user's home (0755, from the image's /etc/passwd), the host's
 *   `/etc/resolv.conf` and `/etc/hosts` read-only (DNS, as the network is shared), then the spec's mounts;
 *   `--remount-ro /` last makes the synthesised part of the root read-only;
 * - `/proc` is hardened as Docker hardens it (moby's ReadonlyPaths and MaskedPaths): when cairn runs as
 *   root, the sandbox user *is* host uid 0 without capabilities, and the kernel lets uid 0 write
 *   `/proc/sys` (e.g. kernel.core_pattern) and `/proc/sysrq-trigger` on file modes alone;
 * - namespaces: user (single uid and gid mapped, nested user namespaces refused when bwrap supports it),
 *   pid, ipc, uts, cgroup when available, and net only when `network: false`; `--die-with-parent`,
 *   `--new-session` (no TIOCSTI into the caller's terminal), `--cap-drop ALL`; bwrap's bind mounts are always
 *   nosuid and nodev.
 */
import { posix } from 'node:path';
import { CairnError } from '../../oci/errors.js';
import type { RunSpec } from './executor.js';
import type { MountPoint, RootfsView } from './rootfs-view.js';

export type SandboxMount =
  | { kind: 'dev' | 'proc'; at: string }
  | { kind: 'tmpfs'; at: string; perms: number }
  | { kind: 'bind'; at: string; host: string; writable: boolean };

export interface SandboxHost {
  /** Host files bound read-only at the same path when they exist: /etc/resolv.conf, /etc/hosts. */
  shared: readonly string[];
  /** /proc entries that exist on this kernel: bound read-only from the host's /proc. */
  procReadOnly: readonly string[];
  /** /proc files that exist on this kernel: hidden behind /dev/null. */
  procMaskedFiles: readonly string[];
  /** /proc folders that exist on this kernel: hidden behind an empty read-only tmpfs. */
  procMaskedDirs: readonly string[];
  /** bwrap knows --disable-userns (0.8.0). */
  disableUserns: boolean;
}

/** Host files every sandbox sees at the same path, read-only, when the host has them (DNS: the network is shared). */
export const SHARED_HOST_FILES = ['/etc/resolv.conf', '/etc/hosts'];

/** Docker's lists (moby oci/defaults.go), filtered by the kernel at hand. */
export const PROC_READ_ONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
export const PROC_MASKED_FILES = ['/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug'];
export const PROC_MASKED_DIRS = ['/proc/acpi', '/proc/asound', '/proc/scsi'];

/** bwrap refuses more arguments than this (MAX_ARGS in bubblewrap.c). */
const BWRAP_MAX_ARGS = 9000;

/** The system mounts followed by the spec's mounts, in the order they are applied. */
export function sandboxMounts(spec: RunSpec, home: string, host: SandboxHost): SandboxMount[] {
  const out: SandboxMount[] = [
    { kind: 'dev', at: '/dev' },
    { kind: 'proc', at: '/proc' },
    { kind: 'tmpfs', at: '/tmp', perms: 0o1777 },
  ];
  if (home !== '/tmp') out.push({ kind: 'tmpfs', at: home, perms: 0o755 });
  for (const f of host.shared) out.push({ kind: 'bind', at: f, host: f, writable: false });
  for (const m of spec.mounts) out.push({ kind: 'bind', at: m.sandbox, host: m.host, writable: m.writable });
  return out;
}

/**
 * Mount points that land in the image's tree (no earlier mount covers them), with what they mount: a folder,
 * or a file for a bind of a host file (`isFolder(hostPath)` follows symlinks, as bwrap does). Checks that a
 * mount point inside an earlier bind mount exists there and is reached without symlinks (`isRealEntry`
 * answers with lstat semantics), so that bwrap never creates folders in a host folder nor follows links
 * planted in it.
 */
export function rootfsMountPoints(mounts: readonly SandboxMount[], isRealEntry: (hostPath: string) => boolean, isFolder: (hostPath: string) => boolean): MountPoint[] {
  const points: MountPoint[] = [];
  mounts.forEach((m, i) => {
    let cover: SandboxMount | undefined;
    for (let j = i - 1; j >= 0; j--) {
      const e = mounts[j]!;
      if (m.at === e.at || m.at.startsWith(`${e.at}/`)) {
        cover = e;
        break;
      }
    }
    if (cover === undefined) {
      points.push({ at: m.at, kind: m.kind !== 'bind' || isFolder(m.host) ? 'dir' : 'file' });
      return;
    }
    if (cover.kind !== 'bind' || cover.at === m.at) return;
    let hostPath = cover.host;
    for (const c of m.at.slice(cover.at.length + 1).split('/')) {
      hostPath = posix.join(hostPath, c);
      if (!isRealEntry(hostPath)) {
        throw new CairnError('INTERNAL', `cannot mount ${m.at} in the sandbox: ${hostPath} (inside the mount of ${cover.host} at ${cover.at}) does not exist or is a symlink`, {
          hint: 'this is a bug in cairn; please report it',
        });
      }
    }
  });
  return points;
}

/** The arguments for `bwrap --args FD` (everything but the command). */
export function bwrapArgs(spec: RunSpec, home: string, host: SandboxHost, view: RootfsView, isRealEntry: (hostPath: string) => boolean, isFolder: (hostPath: string) => boolean): string[] {
  const mounts = sandboxMounts(spec, home, host);
  const args = [
    '--unshare-user', '--uid', String(spec.uid), '--gid', String(spec.gid),
    ...(host.disableUserns ? ['--disable-userns'] : []),
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    ...(spec.network === false ? ['--unshare-net'] : []),
    '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
    '--clearenv',
  ];
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push(...view.args(rootfsMountPoints(mounts, isRealEntry, isFolder)));
  for (const m of mounts) {
    switch (m.kind) {
      case 'dev':
        args.push('--dev', m.at);
        break;
      case 'proc':
        args.push('--proc', m.at);
        for (const p of host.procReadOnly) args.push('--ro-bind', p, p);
        for (const p of host.procMaskedFiles) args.push('--ro-bind', '/dev/null', p);
        for (const p of host.procMaskedDirs) args.push('--perms', '0555', '--tmpfs', p, '--remount-ro', p);
        break;
      case 'tmpfs':
        args.push('--perms', `0${m.perms.toString(8)}`, '--tmpfs', m.at);
        break;
      case 'bind':
        args.push(m.writable ? '--bind' : '--ro-bind', m.host, m.at);
        break;
    }
  }
  args.push('--remount-ro', '/', '--chdir', spec.cwd);
  if (args.length > BWRAP_MAX_ARGS - 100) {
    throw new CairnError('UNSUPPORTED', `the sandbox for ${spec.argv[0]} needs ${args.length} bubblewrap arguments, over bwrap's limit of ${BWRAP_MAX_ARGS}`, {
      hint: 'a mount point lies in a build-image folder with thousands of entries; mount it elsewhere',
    });
  }
  return args;
}
