/**
 * Unpacks a package's data member into a RootTree, as `dpkg --unpack` would (without running any
 * maintainer script): directories, regular files, symlinks and hard links with their modes and owners.
 * Entry names are validated first: absolute paths, `..` components, device nodes and FIFOs are refused
 * with UNSAFE_ARCHIVE_ENTRY (dpkg never ships them; a package that does is not trusted). Symlinks already
 * in the tree are followed inside it, so `./lib/x` lands in `usr/lib/x` on a merged-/usr tree.
 */
import { CairnError, isCairnError, messageOf } from '../../oci/errors.js';
import type { RootTree } from '../root-tree.js';
import { dataEntries } from './deb.js';
import { readBody, type TarEntryHeader } from './tar-entries.js';

export interface UnpackResult {
  /** The paths the package ships, as dpkg's `info/<pkg>.list` records them: `/.` first, then archive order. */
  files: string[];
}

/** Unpacks a package's uncompressed data tar (see `decodeData`) into `tree`. `what` names the package in errors. */
export async function unpackData(dataTar: Buffer, tree: RootTree, what: string): Promise<UnpackResult> {
  const files: string[] = [];
  await dataEntries(dataTar, what, async (h, body) => {
    const path = checkName(h.name, what);
    try {
      await place(h, path, body);
    } catch (e) {
      if (isCairnError(e)) throw e;
      throw new CairnError('IO', `${what}: cannot write /${path} into ${tree.root}: ${messageOf(e)}`, { cause: e, hint: 'check free space and permissions of the folder' });
    }
  });
  return { files };

  async function place(h: TarEntryHeader, path: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    files.push(path === '' ? '/.' : `/${path}`);
    const owner = { mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime };
    switch (h.type) {
      case 'directory':
        tree.mkdir(path, owner);
        return;
      case 'file':
      case 'contiguous-file':
        tree.writeFile(path, await readBody(body), owner);
        return;
      case 'symlink':
        tree.symlink(path, h.linkname ?? '', owner);
        return;
      case 'link':
        tree.hardlink(path, checkName(h.linkname ?? '', what));
        return;
      default:
        throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `${what}: entry ${h.name} is a ${h.type}, which cairn does not unpack`, {
          hint: 'Debian packages ship no device nodes or FIFOs; the package is not what it claims to be',
        });
    }
  }
}

/** Normalises a member name (`./usr/bin/x`, `./usr/`) to `usr/bin/x`; refuses escapes. */
function checkName(name: string, what: string): string {
  if (name.startsWith('/')) throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `${what}: absolute path ${name} in the data member`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new CairnError('UNSAFE_ARCHIVE_ENTRY', `${what}: path ${name} escapes the root with ".."`);
  return parts.join('/');
}
