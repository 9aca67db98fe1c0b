/**
 * Application slices (digest §2.11, §5.1): launch.toml `[[slices]]` split the app folder into layers.
 * Each slice's layer holds the files and folders its globs match (a matched folder brings its whole subtree)
 * that no earlier slice claimed, plus the parent folders they need; the remainder always makes a final
 * layer. Globs follow Go's `filepath.Match`, relative to the app folder (or absolute inside it).
 */
import { readdir } from 'node:fs/promises';
import { relative } from 'node:path';
import type { Slice } from '../files/launch-toml.js';

export type EntryFilter = (entry: { path: string; type: string }) => boolean;

export interface SlicePlan {
  /** One filter per slice, for the layer writer's tree source over the app folder. */
  slices: EntryFilter[];
  remainder: EntryFilter;
}

export async function planSlices(appDir: string, imageAppDir: string, slices: readonly Slice[]): Promise<SlicePlan> {
  const entries = (await readdir(appDir, { recursive: true, withFileTypes: true })).map((d) => ({
    path: relative(appDir, `${d.parentPath}/${d.name}`).split('\\').join('/'),
    dir: d.isDirectory(),
  }));
  entries.sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  const owner = new Map<string, number>(); // path → slice index, -1 for the remainder
  const matchers = slices.map((s) => s.paths.map((p) => globToRegExp(p.startsWith(imageAppDir + '/') ? p.slice(imageAppDir.length + 1) : p)));
  for (const e of entries) {
    const parent = e.path.includes('/') ? owner.get(e.path.slice(0, e.path.lastIndexOf('/'))) ?? -1 : -1;
    if (parent >= 0) {
      owner.set(e.path, parent);
      continue;
    }
    const i = matchers.findIndex((globs) => globs.some((g) => g.test(e.path)));
    owner.set(e.path, i);
  }
  // Folders that lead to something a slice owns must be in that slice's layer too.
  const ancestors = slices.map(() => new Set<string>());
  for (const [path, i] of owner) {
    if (i < 0) continue;
    for (let p = path; p.includes('/'); ) {
      p = p.slice(0, p.lastIndexOf('/'));
      ancestors[i]!.add(p);
    }
  }
  return {
    slices: slices.map((_, i) => (e) => owner.get(e.path) === i || ancestors[i]!.has(e.path)),
    remainder: (e) => (owner.get(e.path) ?? -1) < 0,
  };
}

/** Go `filepath.Match` as a RegExp: `*` and `?` never cross `/`; `[…]`/`[^…]` classes; `\` escapes. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1).replace(/[\]\\]/g, '\\$&');
      else cls = cls.replace(/[\]\\^]/g, '\\$&');
      re += `[${cls}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
