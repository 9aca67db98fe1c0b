/**
 * Content digests (OCI image-spec "descriptor.md#digests"). cairn writes and verifies sha256 only;
 * sha512 digests are parsed so that their presence yields a clear "unsupported" error instead of a crash.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CairnError } from './errors.js';

/** A digest string `sha256:<64 lowercase hex>`. Branded so a plain string is not mistaken for one. */
export type Digest = string & { readonly __digest: unique symbol };

const DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;

/** Parses and validates a digest; throws INVALID_DIGEST. */
export function parseDigest(s: string): Digest {
  const m = DIGEST_RE.exec(s);
  if (!m) throw new CairnError('INVALID_DIGEST', `invalid digest "${s}"`, { hint: 'a digest looks like sha256:<64 hex characters>' });
  const [, alg, hex] = m;
  if (alg !== 'sha256') {
    throw new CairnError('INVALID_DIGEST', `unsupported digest algorithm "${alg}" in "${s}"`, { hint: 'cairn supports sha256 digests' });
  }
  if (!SHA256_HEX.test(hex!)) throw new CairnError('INVALID_DIGEST', `invalid sha256 digest "${s}"`, { hint: 'a sha256 digest has 64 lowercase hex characters' });
  return s as Digest;
}

export function isDigest(s: string): s is Digest {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

/** The hex part of a digest, used for blob paths (`blobs/sha256/<hex>`). */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

export function sha256(data: Uint8Array | string): Digest {
  return ('sha256:' + createHash('sha256').update(data).digest('hex')) as Digest;
}

export function hashToDigest(h: Hash): Digest {
  return ('sha256:' + h.digest('hex')) as Digest;
}

/**
 * A pass-through stream that hashes and counts what flows through it.
 * `digest()` and `size` are valid once the stream has ended.
 */
export class DigestingStream extends Transform {
  private readonly hash = createHash('sha256');
  private result: Digest | undefined;
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = hashToDigest(this.hash);
    cb();
  }

  digest(): Digest {
    if (!this.result) throw new CairnError('INTERNAL', 'digest read before the stream ended');
    return this.result;
  }
}

/**
 * A pass-through stream that fails with DIGEST_MISMATCH / SIZE_MISMATCH at its end when the bytes do
 * not match the expected digest and size. Fails early with SIZE_MISMATCH once more bytes than expected
 * arrive. It holds back its latest chunk until the next arrives or the check passes, so that a consumer never
 * gets the whole of wrong content (an upload of it is cut short, never committed). `what` names the content in
 * the error (e.g. "blob sha256:… from 127.0.0.1:5000/a/b").
 */
export class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;
  private held: Buffer | undefined;

  constructor(private readonly expected: { digest: Digest; size?: number }, private readonly what: string) {
    super();
  }

  /** Whether this stream already checks everything `expected` asks (so another check of the same bytes adds nothing). */
  verifies(expected: { digest: Digest; size?: number }): boolean {
    return this.expected.digest === expected.digest && (expected.size === undefined || this.expected.size === expected.size);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.expected.size !== undefined && this.seen > this.expected.size) {
      cb(sizeMismatch(this.what, this.expected.size, this.seen));
      return;
    }
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    cb(null, previous);
  }

  override _flush(cb: TransformCallback): void {
    if (this.expected.size !== undefined && this.seen !== this.expected.size) {
      cb(sizeMismatch(this.what, this.expected.size, this.seen));
      return;
    }
    const got = hashToDigest(this.hash);
    if (got !== this.expected.digest) {
      cb(new CairnError('DIGEST_MISMATCH', `${this.what}: content digest ${got} does not match ${this.expected.digest}`, {
        hint: 'the source is corrupt or was modified in transit; nothing was stored',
      }));
      return;
    }
    if (this.held) this.push(this.held); // pushed here, not through cb: subclasses wrap cb as (err) => …
    cb();
  }
}

function sizeMismatch(what: string, expected: number, got: number): CairnError {
  return new CairnError('SIZE_MISMATCH', `${what}: expected ${expected} bytes, got ${got}${got > expected ? ' or more' : ''}`, {
    hint: 'the source is corrupt or was truncated in transit; nothing was stored',
  });
}

/** Verifies a whole buffer against a descriptor; throws DIGEST_MISMATCH / SIZE_MISMATCH. */
export function verifyBytes(data: Uint8Array, expected: { digest: Digest; size?: number }, what: string): void {
  if (expected.size !== undefined && data.length !== expected.size) throw sizeMismatch(what, expected.size, data.length);
  const got = sha256(data);
  if (got !== expected.digest) {
    throw new CairnError('DIGEST_MISMATCH', `${what}: content digest ${got} does not match ${expected.digest}`, {
      hint: 'the source is corrupt or was modified in transit; nothing was stored',
    });
  }
}
