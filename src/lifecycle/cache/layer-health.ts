/**
 * What the reads through one Cache object learnt about its layers: which diffIDs were read whole and matched,
 * and which did not. A writer consults it so that it never reuses a layer known to be damaged (else a corrupt
 * cached layer would be carried into every later cache generation), and so that it need not verify again a
 * layer that was just read and checked.
 */
import { pipeline, type Readable, type TransformCallback } from 'node:stream';
import { type Digest, VerifyingStream } from '../../oci/digest.js';

export class LayerHealth {
  private readonly good = new Set<Digest>();
  private readonly bad = new Set<Digest>();

  isGood(diffID: Digest): boolean {
    return this.good.has(diffID);
  }

  isBad(diffID: Digest): boolean {
    return this.bad.has(diffID);
  }

  record(diffID: Digest, ok: boolean): void {
    (ok ? this.good : this.bad).add(diffID);
    (ok ? this.bad : this.good).delete(diffID);
  }

  /**
   * `tar` checked against `diffID` as it is read: the stream errors with DIGEST_MISMATCH at its end when the
   * bytes do not match. The outcome is recorded: a match once read whole; damage on a mismatch or on any
   * error of the source (a corrupt blob, a gzip error, a short file), but not when the reader stops early.
   */
  track(diffID: Digest, tar: Readable, what: string): Readable {
    return pipeline(tar, new RecordingVerifier(diffID, what, (ok) => this.record(diffID, ok)), (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') this.record(diffID, false);
    });
  }
}

class RecordingVerifier extends VerifyingStream {
  constructor(diffID: Digest, what: string, private readonly onResult: (ok: boolean) => void) {
    super({ digest: diffID }, what);
  }

  override _flush(cb: TransformCallback): void {
    super._flush((err) => {
      this.onResult(!err);
      cb(err);
    });
  }
}
