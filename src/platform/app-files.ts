/**
 * Which of the app's files a build sees: project.toml's `include` (only these) or `exclude` (all but these),
 * gitignore-style patterns matched against paths relative to the app folder, as the project descriptor spec and
 * pack use them. With `include`, a folder is entered when a pattern could match something under it, and a file
 * under an included folder is included.
 */
import { relative, sep } from 'node:path';
import ignore from 'ignore';

export interface AppFileRules {
  include?: string[];
  exclude?: string[];
}

/** A `cp` filter for copying `appDir`: true keeps the path. */
export function appFileFilter(appDir: string, rules: AppFileRules): ((src: string, isDir: boolean) => boolean) | undefined {
  const rel = (src: string): string => relative(appDir, src).split(sep).join('/');
  if (rules.exclude?.length) {
    const excluded = ignore().add(rules.exclude);
    return (src, isDir) => {
      const r = rel(src);
      return r === '' || !excluded.ignores(isDir ? `${r}/` : r);
    };
  }
  if (rules.include?.length) {
    const included = ignore().add(rules.include);
    return (src, isDir) => {
      const r = rel(src);
      if (r === '') return true;
      if (included.ignores(isDir ? `${r}/` : r)) return true;
      // A folder may hold included files deeper down: enter it, its files are filtered one by one.
      return isDir;
    };
  }
  return undefined;
}
