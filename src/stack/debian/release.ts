/**
 * A suite's `InRelease` file: a clearsigned Release (Debian wiki "DebianRepository/Format" §A.1.1) whose
 * SHA256 field lists the index files with their sizes and hashes. `verifyInRelease` accepts the file only
 * when at least one signature verifies against the keyring; everything cairn later reads from the suite is
 * checked against these hashes, so the signature covers the whole chain down to each .deb.
 */
import type * as openpgp from 'openpgp';
import { CairnError, messageOf } from '../../oci/errors.js';
import { parseStanza } from './deb822.js';
import { type Keyring, pgp } from './keyring.js';

export interface ReleaseFile {
  sha256: string;
  size: number;
}

export interface Release {
  /** `Codename` (e.g. bookworm-security) or, failing that, `Suite`. */
  codename: string;
  suite: string | undefined;
  /** The `Date` field as written (RFC 2822), e.g. "Sat, 11 Jul 2026 10:16:37 UTC". */
  date: string;
  validUntil: string | undefined;
  /** `Acquire-By-Hash: yes`: index files can be fetched from `by-hash/SHA256/<hex>`. */
  acquireByHash: boolean;
  /** Index files by path relative to `dists/<suite>/`. */
  files: ReadonlyMap<string, ReleaseFile>;
  /** Key IDs (hex) of the signatures that verified. */
  signedBy: string[];
}

export interface VerifyReleaseOptions {
  keyring: Keyring;
  /** The suite we asked for; the Release must name it in Codename or Suite. */
  expectedSuite: string;
  /** Verification time (injected clock). */
  now: Date;
  /** Fail when Valid-Until is in the past. Off by default: mirrors may serve stale dates. */
  checkValidUntil?: boolean;
  /** Called with a warning (e.g. an expired Valid-Until that was accepted). */
  warn?: (message: string) => void;
  /** Names the file in errors (its URL). */
  what: string;
}

/** Verifies and parses an InRelease file. Bad or missing signature → INVALID_ARCHIVE. */
export async function verifyInRelease(text: string, opts: VerifyReleaseOptions): Promise<Release> {
  let message: openpgp.CleartextMessage;
  try {
    message = await (await pgp()).readCleartextMessage({ cleartextMessage: text });
  } catch (e) {
    throw new CairnError('INVALID_ARCHIVE', `${opts.what} is not a clearsigned OpenPGP message: ${messageOf(e)}`, {
      cause: e,
      hint: 'the mirror served something else than an InRelease file; check the mirror URL',
    });
  }
  const result = await (await pgp()).verify({ message, verificationKeys: [...opts.keyring.keys], date: opts.now });
  const signedBy: string[] = [];
  const failures: string[] = [];
  for (const sig of result.signatures) {
    try {
      await sig.verified;
      signedBy.push(sig.keyID.toHex());
    } catch (e) {
      failures.push(`${sig.keyID.toHex()}: ${messageOf(e)}`);
    }
  }
  if (signedBy.length === 0) {
    throw new CairnError('INVALID_ARCHIVE', `bad signature on ${opts.what}: no signature verifies against the keys in ${opts.keyring.source} (${failures.join('; ') || 'no signatures'})`, {
      hint: 'the file was altered or signed by an unknown key; check the mirror, or add the archive key to the keyring folder',
    });
  }
  const release = parseRelease(result.data, opts.what, signedBy);
  if (release.codename !== opts.expectedSuite && release.suite !== opts.expectedSuite) {
    throw new CairnError('INVALID_ARCHIVE', `${opts.what} is for suite "${release.codename}", not "${opts.expectedSuite}"`, {
      hint: 'the mirror serves another suite under this name; check the mirror URL',
    });
  }
  if (release.validUntil !== undefined) {
    const until = Date.parse(release.validUntil);
    if (!Number.isNaN(until) && until < opts.now.getTime()) {
      const msg = `${opts.what} expired on ${release.validUntil} (Valid-Until)`;
      if (opts.checkValidUntil) {
        throw new CairnError('INVALID_ARCHIVE', msg, { hint: 'the mirror is stale; use a fresher mirror or turn off the Valid-Until check' });
      }
      opts.warn?.(`${msg}; accepted because the Valid-Until check is off`);
    }
  }
  return release;
}

/** Parses the (already verified) Release text. */
export function parseRelease(text: string, what: string, signedBy: string[] = []): Release {
  const st = parseStanza(text, what);
  const files = new Map<string, ReleaseFile>();
  for (const line of (st.get('SHA256') ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const [hex, size, path] = parts as [string, string, string];
    if (!/^[0-9a-f]{64}$/.test(hex) || !/^[0-9]+$/.test(size)) throw new CairnError('INVALID_ARCHIVE', `${what}: malformed SHA256 line "${line.trim()}"`);
    files.set(path, { sha256: hex, size: Number(size) });
  }
  if (files.size === 0) throw new CairnError('INVALID_ARCHIVE', `${what} lists no SHA256 file hashes`, { hint: 'cairn needs SHA256 hashes in the Release file' });
  const codename = st.get('Codename') ?? st.get('Suite');
  if (!codename) throw new CairnError('INVALID_ARCHIVE', `${what} has neither Codename nor Suite`);
  return {
    codename,
    suite: st.get('Suite'),
    date: st.require('Date', what),
    validUntil: st.get('Valid-Until'),
    acquireByHash: (st.get('Acquire-By-Hash') ?? '').toLowerCase() === 'yes',
    files,
    signedBy,
  };
}
