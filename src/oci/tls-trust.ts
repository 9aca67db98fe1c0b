/**
 * What cairn's TLS clients trust: Node.js's bundled CA list, plus the file NODE_EXTRA_CA_CERTS names, plus
 * certificates given on the command line (`--ca-cert`).
 *
 * cairn reads NODE_EXTRA_CA_CERTS itself, when a client makes its first TLS connection. Node.js 20 would parse
 * every certificate of that file at start-up, before any code runs (about 35 ms for a system bundle, at every
 * command, TLS or not), so `bin/cairn` hides the variable from Node.js and `bin/cairn.js` puts it back for
 * child processes and for this module. Run as `node bin/cairn.js`, Node.js has loaded the file already; adding
 * it again changes nothing.
 */
import { readFile } from 'node:fs/promises';
import type { SecureContext } from 'node:tls';

/** The CA files an environment asks every TLS client to trust: NODE_EXTRA_CA_CERTS, if set. */
export function extraCaFiles(env: Record<string, string | undefined>): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  return file ? [file] : [];
}

/**
 * One TLS context trusting Node.js's CAs plus `caFiles` (PEM files, read now) and `caCerts` (PEM text), or
 * undefined when there is nothing to add (Node.js's default context then applies). A file that cannot be read
 * is skipped, as Node.js skips an unreadable NODE_EXTRA_CA_CERTS (bin/cairn.js warns of it at start-up).
 * Made once per client: creating a context parses every certificate.
 */
export async function trustContext(caCerts: readonly string[], caFiles: readonly string[]): Promise<SecureContext | undefined> {
  const fromFiles = await Promise.all(caFiles.map((f) => readFile(f, 'utf8').catch(() => undefined)));
  const extra = [...fromFiles.filter((pem): pem is string => pem !== undefined), ...caCerts];
  if (extra.length === 0) return undefined;
  const { createSecureContext, rootCertificates } = await import('node:tls');
  return createSecureContext({ ca: [...rootCertificates, ...extra] });
}
