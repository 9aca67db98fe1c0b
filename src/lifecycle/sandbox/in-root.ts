/**
 * Looking up a path inside an extracted root filesystem the way a process chrooted into it would: every
 * symlink met (including the last component) is followed inside the root, absolute targets restart at the
 * root and `..` stops at it. Nothing outside the root is ever reached, whatever symlinks the image holds.
 */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';

const MAX_LINKS = 40; // Linux MAXSYMLINKS

export interface InRoot {
  /** Host path with no symlink in it. */
  host: string;
  stats: Stats;
}

/** Resolves `path` (absolute, in the root's namespace); null when it does not exist or loops. */
export function resolveInRoot(root: string, path: string): InRoot | null {
  const queue = path.split('/');
  const stack: string[] = []; // real directories below the root, then possibly one last non-directory
  let stats = lstatSync(root);
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (!stats.isDirectory()) return null; // a component after a file
    if (c === '..') {
      stack.pop(); // every remaining entry is a directory we went through
      continue;
    }
    const host = `${root}/${[...stack, c].join('/')}`;
    let st: Stats;
    try {
      st = lstatSync(host);
    } catch {
      return null;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return null;
      const target = readlinkSync(host);
      if (target.startsWith('/')) stack.length = 0;
      queue.unshift(...target.split('/'));
      continue;
    }
    stack.push(c);
    stats = st;
  }
  const host = stack.length === 0 ? root : `${root}/${stack.join('/')}`;
  return { host, stats: lstatSync(host) };
}
