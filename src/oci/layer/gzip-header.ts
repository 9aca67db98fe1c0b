/**
 * Platform-independent gzip headers (RFC 1952 §2.3). zlib writes the OS byte (offset 9) from the build
 * platform (3 on Unix, 19 on macOS, 10/11 on Windows), so the same tar would give different layer digests
 * on different machines. This stream sets it to 255 ("unknown", as Go's compress/gzip writes) and checks
 * that the rest of the header is the fixed one cairn relies on: no FNAME/FCOMMENT/FEXTRA, MTIME 0.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CairnError } from '../errors.js';

export const GZIP_OS_UNKNOWN = 255;

export class NormalizeGzipHeader extends Transform {
  private seen = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.seen < 10) {
      for (let i = 0; i < chunk.length && this.seen + i < 10; i++) {
        const at = this.seen + i;
        const ok = at === 0 ? chunk[i] === 0x1f : at === 1 ? chunk[i] === 0x8b : at === 2 ? chunk[i] === 8 : at >= 3 && at <= 7 ? chunk[i] === 0 : true;
        if (!ok) {
          cb(new CairnError('INTERNAL', `unexpected gzip header byte ${chunk[i]} at offset ${at}`, { hint: 'the zlib in this Node.js build writes a non-standard gzip header' }));
          return;
        }
        if (at === 9) chunk[i] = GZIP_OS_UNKNOWN;
      }
    }
    this.seen += chunk.length;
    cb(null, chunk);
  }
}
