/**
 * A composed root filesystem (`RootTree`) → one gzip layer, reproducibly. Unlike the application layer
 * writer (`src/oci/layer/tar-writer.ts`, which normalises modes and owners), a base image layer keeps the
 * metadata of the tree's entry table exactly: modes with setuid/setgid/sticky bits (`/tmp` is 1777,
 * `su` is 4755), per-entry owners (the CNB user's home), hard links. Only the table is read for metadata;
 * the disk is read for file contents alone.
 *
 * Byte-level rules (shared with the application writer through `tar-header.ts`): entries in the table's
 * order (bytewise, component by component; parents first), no `./` entry, folders named with a trailing
 * `/`, every mtime set to `mtime`, uname/gname empty, ustar headers with PAX records only where a field
 * does not fit, two zero blocks at the end; gzip at a fixed level with a normalised header. The same tree
 * table and contents give the same diffID on every machine; the compressed digest also depends on the
 * zlib inside Node, as for every cairn layer.
 */
import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { writeThroughAtomic } from '../../oci/atomic-file.js';
import { DigestingStream, hashToDigest } from '../../oci/digest.js';
import { CairnError, messageOf } from '../../oci/errors.js';
import { NormalizeGzipHeader } from '../../oci/layer/gzip-header.js';
import { encodeHeader, paddingFor, TypeFlag } from '../../oci/layer/tar-header.js';
import { TarOut } from '../../oci/layer/tar-out.js';
import type { LayerWriteResult } from '../../oci/layer/tar-writer.js';
import type { RootTree } from '../root-tree.js';

export interface TreeLayerOptions {
  /** The mtime of every entry. */
  mtime: Date;
  /** gzip level (default 6: base images are written once and pulled often). */
  level?: number;
}


/** Writes the tree as a gzip layer to `dest` (atomically). */
export async function writeTreeLayer(tree: RootTree, dest: string, opts: TreeLayerOptions): Promise<LayerWriteResult> {
  const mtime = Math.floor(opts.mtime.getTime() / 1000);
  if (!Number.isSafeInteger(mtime) || mtime < 0) throw new CairnError('INVALID_ARGUMENT', `invalid layer mtime ${String(opts.mtime)}`, { hint: 'use a date after 1970' });
  return writeThroughAtomic(dest, (out) => writeTar(tree, out, mtime, opts.level ?? 6));
}

async function writeTar(tree: RootTree, dest: Writable, mtime: number, level: number): Promise<LayerWriteResult> {
  const gzip = createGzip({ level, chunkSize: 128 * 1024 });
  const digesting = new DigestingStream();
  const piped = pipeline(gzip, new NormalizeGzipHeader(), digesting, dest);
  const failure = piped.then(() => undefined, (e: unknown) => e);
  const out = new TarOut(gzip);
  try {
    for (const e of tree.entries()) {
      const base = { name: e.path, mode: e.mode, uid: e.uid, gid: e.gid, mtime, size: 0 };
      if (e.kind === 'dir') await out.put(encodeHeader({ ...base, name: `${e.path}/`, typeflag: TypeFlag.Dir }));
      else if (e.kind === 'symlink') await out.put(encodeHeader({ ...base, typeflag: TypeFlag.Symlink, mode: 0o777, linkname: e.target! }));
      else if (e.hardlinkTo !== undefined) await out.put(encodeHeader({ ...base, typeflag: TypeFlag.Hardlink, linkname: e.hardlinkTo }));
      else await copyFile(tree.hostPath(e.path), e.path, base, out);
    }
    await out.finish();
    gzip.end();
    await piped;
  } catch (e) {
    gzip.destroy(e as Error);
    const cause = (await failure) ?? e;
    if (cause instanceof CairnError) throw cause;
    throw new CairnError('IO', `cannot write the image layer: ${messageOf(cause)}`, { cause, hint: 'check free disk space in the cairn home' });
  }
  return { digest: digesting.digest(), diffID: hashToDigest(out.hash), size: digesting.size, tarSize: out.size };
}

type Base = { name: string; mode: number; uid: number; gid: number; mtime: number; size: number };

/** A regular file: header with the size read from the open descriptor, then the contents, then padding. */
async function copyFile(hostPath: string, name: string, base: Base, out: TarOut): Promise<void> {
  let fd: number;
  try {
    fd = openSync(hostPath, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    throw new CairnError('IO', `cannot read /${name} of the composed tree: ${messageOf(e)}`, { cause: e, hint: 'the tree changed while its layer was written' });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CairnError('IO', `/${name} of the composed tree is not a regular file`, { hint: 'the tree changed while its layer was written' });
    await out.put(encodeHeader({ ...base, typeflag: TypeFlag.File, size: st.size }));
    let pos = 0;
    while (pos < st.size) {
      const [buf, off, free] = out.region();
      const n = readSync(fd, buf, off, Math.min(free, st.size - pos), pos);
      if (n === 0) throw new CairnError('IO', `/${name} of the composed tree became shorter while its layer was written`);
      pos += n;
      await out.advance(n);
    }
    await out.zeros(paddingFor(st.size));
  } finally {
    closeSync(fd);
  }
}

