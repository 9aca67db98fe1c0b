/**
 * The OpenPGP public keys that may sign a Debian Release file. cairn ships Debian's archive keys in
 * `stacks/keys/` (copied unchanged from the debian-archive-keyring package) so that verification works on
 * any machine, not only on Debian hosts. A keyring folder holds binary (`*.gpg`) or armored (`*.asc`) keys.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as openpgp from 'openpgp';

/** openpgp is large (~0.8 MB): loaded when a signature is checked, not when cairn starts. */
export const pgp = () => import('openpgp');
import { CairnError, messageOf } from '../../oci/errors.js';

export interface Keyring {
  /** The folder the keys came from (named in errors). */
  readonly source: string;
  readonly keys: readonly openpgp.PublicKey[];
}

/** Loads every `*.gpg` / `*.asc` key file of `dir`. Throws NOT_FOUND when there is none. */
export async function loadKeyring(dir: string): Promise<Keyring> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.gpg') || n.endsWith('.asc')).sort();
  } catch (e) {
    throw new CairnError('NOT_FOUND', `cannot read the keyring folder ${dir}: ${messageOf(e)}`, {
      cause: e,
      hint: 'pass the folder holding Debian archive keys (cairn ships them in stacks/keys/)',
    });
  }
  if (names.length === 0) {
    throw new CairnError('NOT_FOUND', `no *.gpg or *.asc key in ${dir}`, { hint: 'copy /usr/share/keyrings/debian-archive-*.gpg there' });
  }
  const keys: openpgp.PublicKey[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const data = await readFile(path);
    try {
      const read = name.endsWith('.asc')
        ? await (await pgp()).readKeys({ armoredKeys: data.toString('utf8') })
        : await (await pgp()).readKeys({ binaryKeys: new Uint8Array(data) });
      keys.push(...read.map((k) => k.toPublic()));
    } catch (e) {
      throw new CairnError('INVALID_ARGUMENT', `cannot read OpenPGP keys from ${path}: ${messageOf(e)}`, { cause: e });
    }
  }
  return { source: dir, keys };
}

/**
 * Finds the `stacks/keys` folder shipped with cairn by walking up from `from` (a module URL such as
 * `import.meta.url`). Returns undefined when none is found.
 */
export function findBundledKeysDir(from: string | URL): string | undefined {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const candidate = join(dir, 'stacks', 'keys');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
