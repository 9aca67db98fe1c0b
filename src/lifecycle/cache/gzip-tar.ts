/**
 * Compresses a layer tar for the image cache, the way cairn's layer writer does (zlib level 1, gzip header
 * normalised to OS "unknown"), so the same tar always gives the same blob digest and an unchanged layer is
 * recognised as already present in the registry. The tar's diffID is computed on the way and checked.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { type Digest, DigestingStream, sha256 } from '../../oci/digest.js';
import { CairnError } from '../../oci/errors.js';
import { NormalizeGzipHeader, GZIP_OS_UNKNOWN } from '../../oci/layer/gzip-header.js';

export interface GzippedTar {
  path: string;
  digest: Digest;
  diffID: Digest;
  size: number;
}

/**
 * Writes `<tmpDir>/.<name>.<random>.gz` from the tar at `tarPath`; fails with DIGEST_MISMATCH (and leaves
 * nothing) when the tar's sha256 is not `diffID`.
 */
export async function gzipTarFile(tarPath: string, diffID: Digest, tmpDir: string): Promise<GzippedTar> {
  const path = join(tmpDir, `.${basename(tarPath)}.${randomBytes(6).toString('hex')}.gz`);
  const tar = new DigestingStream();
  const blob = new DigestingStream();
  try {
    await pipeline(createReadStream(tarPath), tar, createGzip({ level: 1 }), new NormalizeGzipHeader(), blob, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    if (tar.digest() !== diffID) {
      throw new CairnError('DIGEST_MISMATCH', `layer tar ${tarPath} has diffID ${tar.digest()}, not ${diffID}`, {
        hint: 'the tar changed after its diffID was computed; this is a bug in the caller',
      });
    }
  } catch (e) {
    await unlink(path).catch(() => undefined);
    throw e;
  }
  return { path, digest: blob.digest(), diffID, size: blob.size };
}

/** The empty layer (a tar of two zero blocks), gzipped the same way. */
export function emptyGzippedTar(): { blob: Buffer; digest: Digest; diffID: Digest } {
  const tar = Buffer.alloc(1024);
  const blob = gzipSync(tar, { level: 1 });
  blob[9] = GZIP_OS_UNKNOWN;
  return { blob, digest: sha256(blob), diffID: sha256(tar) };
}
