/**
 * A content-addressed download cache: `<dir>/sha256/<hex>`. Entries are written atomically (temp file in
 * the same folder, fsync, rename) and verified against their name on every read, so a corrupt or
 * truncated entry is never used: it is dropped and downloaded again.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest, sha256, VerifyingStream } from '../../oci/digest.js';
import { CairnError, isCairnError, messageOf } from '../../oci/errors.js';

export class ContentCache {
  constructor(readonly dir: string) {}

  /** Path of the entry for a sha256 hex digest (which may not exist). */
  path(hex: string): string {
    return join(this.dir, 'sha256', checkHex(hex));
  }

  /** The verified bytes of an entry, or undefined when absent or corrupt (a corrupt entry is removed). */
  async read(hex: string, size?: number): Promise<Buffer | undefined> {
    let data: Buffer;
    try {
      data = await readFile(this.path(hex));
    } catch {
      return undefined;
    }
    if ((size !== undefined && data.length !== size) || sha256(data) !== `sha256:${hex}`) {
      await rm(this.path(hex), { force: true });
      return undefined;
    }
    return data;
  }

  /** Whether a verified entry exists (hashes the file). */
  async has(hex: string, size?: number): Promise<boolean> {
    try {
      const verify = new VerifyingStream({ digest: parseDigest(`sha256:${hex}`), ...(size !== undefined ? { size } : {}) }, 'cache entry');
      await pipeline(createReadStream(this.path(hex)), verify, async (src: AsyncIterable<Buffer>) => {
        for await (const _ of src) {
          // Only the digest check matters.
        }
      });
      return true;
    } catch {
      await rm(this.path(hex), { force: true });
      return false;
    }
  }

  /** Stores bytes under their digest, which must equal `hex` (DIGEST_MISMATCH naming `what` otherwise). */
  async put(hex: string, data: Uint8Array, what: string): Promise<string> {
    return this.putStream(hex, Readable.from([data]), what, data.length);
  }

  /** Streams content into the cache, verifying digest (and size) before the entry appears. */
  async putStream(hex: string, source: Readable, what: string, size?: number): Promise<string> {
    const dest = this.path(hex);
    await mkdir(join(this.dir, 'sha256'), { recursive: true });
    const tmp = join(this.dir, 'sha256', `.tmp-${randomBytes(6).toString('hex')}-${hex}`);
    const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
    // Settles once the file is closed: a failed pipeline destroys the stream, which may still be opening the file;
    // removing it before then would leave the file the open creates.
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    try {
      const verify = new VerifyingStream({ digest: parseDigest(`sha256:${hex}`), ...(size !== undefined ? { size } : {}) }, what);
      await pipeline(source, verify, out);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, dest);
      return dest;
    } catch (e) {
      await closed;
      await rm(tmp, { force: true });
      if (isCairnError(e)) throw e;
      throw new CairnError('IO', `cannot store ${what} in the cache ${this.dir}: ${messageOf(e)}`, { cause: e, hint: 'check free space and permissions of the cache folder' });
    }
  }
}

function checkHex(hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new CairnError('INVALID_DIGEST', `invalid sha256 "${hex}"`);
  return hex;
}
