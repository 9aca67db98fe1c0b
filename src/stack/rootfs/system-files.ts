/**
 * The small system files a container expects that no package ships ready-made: the sticky world-writable
 * temp folders, the local time zone (what tzdata's postinst sets up: `/etc/localtime` → the zone file and
 * `/etc/timezone`), and a check for `/etc/os-release` (shipped by base-files; scanners need it).
 */
import { CairnError } from '../../oci/errors.js';
import type { ExtraFile } from '../config.js';
import type { RootTree } from '../root-tree.js';

/** `/tmp` and `/var/tmp` with mode 1777. */
export function writeTempDirs(tree: RootTree): void {
  tree.mkdir('tmp', { mode: 0o1777 });
  tree.mkdir('var', { mode: 0o755 });
  tree.mkdir('var/tmp', { mode: 0o1777 });
}

/** Points `/etc/localtime` at the zone when tzdata is installed; returns whether it was. */
export function writeTimezone(tree: RootTree, zone: string): boolean {
  const zoneFile = `usr/share/zoneinfo/${zone}`;
  if (tree.kindOf('usr/share/zoneinfo') !== 'dir') return false;
  if (tree.kindOf(zoneFile) !== 'file') {
    throw new CairnError('INVALID_ARGUMENT', `time zone "${zone}" is not in tzdata (/${zoneFile} is missing)`, { hint: 'use a zone name such as Etc/UTC or Europe/Paris' });
  }
  tree.symlink('etc/localtime', `/${zoneFile}`);
  tree.writeFile('etc/timezone', `${zone}\n`, { mode: 0o644 });
  return true;
}

/** Whether `/etc/os-release` resolves to a file. */
export function hasOsRelease(tree: RootTree): boolean {
  return tree.kindOf('etc/os-release') === 'file';
}

/** Writes the stack's extra files; `read` loads a `source` file from the host. */
export async function writeExtraFiles(tree: RootTree, files: readonly ExtraFile[], read: (path: string) => Promise<Buffer>): Promise<void> {
  for (const f of files) {
    let data: Buffer;
    if (f.content !== undefined) data = Buffer.from(f.content);
    else {
      try {
        data = await read(f.source!);
      } catch (e) {
        throw new CairnError('NOT_FOUND', `cannot read ${f.source} for ${f.path}: ${(e as Error).message}`, { cause: e, hint: 'source paths are relative to the folder of stack.toml' });
      }
    }
    tree.writeFile(f.path, data, { mode: f.mode, uid: f.uid, gid: f.gid });
  }
}
