/**
 * The build image's root filesystem as bubblewrap arguments: read-only, with room for mount points it does
 * not have (`/workspace`, `/layers/<bp>`, `/cnb/buildpacks/<id>/<version>`, `/etc/resolv.conf`, …).
 *
 * A read-only bind of the whole tree at `/` cannot receive a new mount point (bwrap's mkdir fails with EROFS),
 * and a writable one would add folders to the shared cache. Instead the sandbox root is bwrap's own tmpfs;
 * every folder on the way to a mount point is synthesised there (`--dir`, with the image's mode) and all its
 * other entries are bound read-only one by one (`--ro-bind` for files and folders, `--symlink` for symlinks,
 * which are recreated verbatim and never followed on the host); every other folder is bound whole. The
 * caller ends with `--remount-ro /`, so the synthesised folders are read-only too. A symlink on the way to a
 * mount point (e.g. `/var/run` → `/run`) is replaced by a synthesised folder holding what its target holds.
 *
 * The extracted tree is immutable once prepared, so listings are cached for the life of the view.
 */
import { type Dirent, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { resolveInRoot } from './in-root.js';

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
   * bwrap arguments showing the tree at `/`, leaving `mountPoints` (absolute, normalised, not `/`) free: they
   * are neither bound nor created, so the mounts that follow create and cover them.
   */
  args(mountPoints: Iterable<string>): string[] {
    const points = new Set(mountPoints);
    const expand = new Set<string>(['/']);
    for (const p of points) {
      for (let d = posix.dirname(p); !expand.has(d); d = posix.dirname(d)) expand.add(d);
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
