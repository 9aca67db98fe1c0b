/**
 * Files shipped with cairn beside its code (stacks/, builders/, dist/buildpacks/): found by walking up from
 * this module (dist/cairn.mjs when bundled, dist/src/cli/ when transpiled) to the folder whose package.json
 * names the package `cairn`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CairnError } from '../oci/errors.js';

export function packageFile(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && isCairn(pkg)) {
      const path = join(dir, relative);
      if (!existsSync(path)) throw new CairnError('NOT_FOUND', `${relative} is missing from cairn's installation at ${dir}`, { hint: 'reinstall cairn (from a clone: npm ci, which also builds dist/)' });
      return path;
    }
    const up = dirname(dir);
    if (up === dir) throw new CairnError('NOT_FOUND', 'cannot find the folder cairn is installed in', { hint: 'run cairn from its package (bin/cairn.js)' });
    dir = up;
  }
}

function isCairn(path: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name === 'cairn';
  } catch {
    return false;
  }
}
