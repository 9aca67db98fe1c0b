/**
 * The merged-/usr layout Debian has required since bookworm (DEP 17; what debootstrap and the usrmerge
 * package create): the top-level `bin`, `sbin` and library folders are symlinks into `/usr`. Created
 * before any package is unpacked, so that a package shipping `./lib/x` puts it in `usr/lib/x`.
 */
import type { RootTree } from '../root-tree.js';

/** Top-level symlinks for an architecture: `[name, target]`. amd64 also has `lib64` (its dynamic loader lives there). */
export function mergedUsrLinks(arch: string): [string, string][] {
  const links: [string, string][] = [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['sbin', 'usr/sbin'],
  ];
  if (arch === 'amd64') links.push(['lib64', 'usr/lib64']);
  return links;
}

/** Creates `usr/{bin,sbin,lib,…}` and the top-level symlinks into them. */
export function createMergedUsr(tree: RootTree, arch: string): void {
  tree.mkdir('usr', { mode: 0o755 });
  for (const [name, target] of mergedUsrLinks(arch)) {
    tree.mkdir(target, { mode: 0o755 });
    tree.symlink(name, target);
  }
}
