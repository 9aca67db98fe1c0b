/**
 * The build image's root filesystem as bubblewrap arguments: read-only, with room for mount points it does
 * not have (`/workspace`, `/layers/<bp>`, `/cnb/buildpacks/<id>/<version>`, `/etc/resolv.conf`, …).
 *
 * A read-only bind of the whole tree at `/` cannot receive a new mount point (bwrap's mkdir fails with EROFS),
 * and a writable one would add folders to the shared cache. Instead the sandbox root is bwrap's own tmpfs,
 * and every top-level entry is bound read-only. A mount point the image already has, as a real entry of the
 * mount's kind (folder or file) reached through real folders only, is simply covered by its mount where it
 * is. For any other mount point, every folder on the way is synthesised (`--dir`, with the image's mode) and
 * all its other entries are bound read-only one by one (`--ro-bind` for files and folders, `--symlink` for
 * symlinks, which are recreated verbatim and never followed on the host); every other folder is bound whole.
 * The caller ends with `--remount-ro /`, so the synthesised folders are read-only too. A symlink on the way
 * to a mount point (e.g. `/var/run` → `/run`) is replaced by a synthesised folder holding what its target
 * holds. Each bound entry is a mount, so synthesising a folder as big as Debian's `/etc` costs a sandbox
 * start about 8 ms: the rootfs cache gives images the mount-point files they lack (rootfs-cache.ts).
 *
 * The extracted tree is immutable once prepared, so listings are cached for the life of the view.
 */
import { type Dirent, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { resolveInRoot } from './in-root.js';

/** Where a mount goes, and whether it mounts a folder or a file there. */
export interface MountPoint {
  at: string;
  kind: 'dir' | 'file';
}

interface Entry {
  name: string;
  kind: 'dir' | 'file' | 'symlink' | 'other';
  target?: string;
}

export class RootfsView {
  private readonly listings = new Map<string, readonly Entry[]>();

  /** `root` is a real path (no symlink in it). */
  constructor(readonly root: string) {}

  /**
   * bwrap arguments showing the tree at `/`, with room for `mountPoints` (absolute, normalised, not `/`): each
   * is either the image's own entry, or left free (neither bound nor created) so the mount creates it.
   */
  args(mountPoints: Iterable<MountPoint>): string[] {
    const points = new Set<string>();
    const expand = new Set<string>(['/']);
    for (const p of mountPoints) {
      points.add(p.at);
      if (this.holds(p)) continue;
      for (let d = posix.dirname(p.at); !expand.has(d); d = posix.dirname(d)) expand.add(d);
    }
    const out: string[] = [];
    const visit = (dir: string, host: string | null, mode: number): void => {
      if (dir !== '/') out.push('--perms', `0${(mode & 0o7777).toString(8)}`, '--dir', dir);
      const seen = new Set<string>();
      for (const e of host === null ? [] : this.list(host)) {
        const at = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
        seen.add(at);
        if (points.has(at)) continue;
        if (expand.has(at)) {
          const r = resolveInRoot(this.root, at);
          if (r && r.stats.isDirectory()) visit(at, r.host, r.stats.mode);
          else visit(at, null, 0o755);
        } else if (e.kind === 'dir' || e.kind === 'file') {
          out.push('--ro-bind', `${host}/${e.name}`, at);
        } else if (e.kind === 'symlink') {
          out.push('--symlink', e.target!, at);
        }
      }
      const missing = [...expand].filter((d) => d !== '/' && posix.dirname(d) === dir && !seen.has(d)).sort();
      for (const d of missing) visit(d, null, 0o755);
    };
    visit('/', this.root, 0o755);
    return out;
  }

  /** The image has `p.at` as a real entry of `p.kind`, reached through real folders only. */
  private holds(p: MountPoint): boolean {
    const names = p.at.split('/').filter((c) => c !== '');
    let host = this.root;
    for (const [i, name] of names.entries()) {
      const e = this.list(host).find((x) => x.name === name);
      if (e?.kind !== (i === names.length - 1 ? p.kind : 'dir')) return false;
      host = `${host}/${name}`;
    }
    return names.length > 0;
  }

  private list(host: string): readonly Entry[] {
    let entries = this.listings.get(host);
    if (!entries) {
      entries = readdirSync(host, { withFileTypes: true })
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((d) => entryOf(host, d));
      this.listings.set(host, entries);
    }
    return entries;
  }
}

function entryOf(host: string, d: Dirent): Entry {
  if (d.isDirectory()) return { name: d.name, kind: 'dir' };
  if (d.isFile()) return { name: d.name, kind: 'file' };
  if (d.isSymbolicLink()) return { name: d.name, kind: 'symlink', target: readlinkSync(`${host}/${d.name}`) };
  if (d.isBlockDevice() || d.isCharacterDevice() || d.isFIFO() || d.isSocket()) return { name: d.name, kind: 'other' };
  // unknown d_type (some filesystems): ask lstat
  const st = lstatSync(`${host}/${d.name}`);
  if (st.isDirectory()) return { name: d.name, kind: 'dir' };
  if (st.isFile()) return { name: d.name, kind: 'file' };
  if (st.isSymbolicLink()) return { name: d.name, kind: 'symlink', target: readlinkSync(`${host}/${d.name}`) };
  return { name: d.name, kind: 'other' };
}
