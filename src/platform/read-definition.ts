/**
 * Reads a definition file (builder.toml, stack.toml, package.toml, project.toml) as text, refusing one larger
 * than MAX_DEFINITION_BYTES — or an endless one such as /dev/zero — before it is parsed.
 */
import { open } from 'node:fs/promises';
import { CairnError, messageOf } from '../oci/errors.js';

/** Largest definition file read, in bytes. */
export const MAX_DEFINITION_BYTES = 4 * 1024 * 1024;

/** `shown` names the file in messages, `what` says what it is ("the builder definition"). */
export async function readDefinition(path: string, shown: string, what: string): Promise<string> {
  let data: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      data = Buffer.alloc(MAX_DEFINITION_BYTES + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(data, n, data.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n === data.length) break;
      }
      data = data.subarray(0, n);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new CairnError('INVALID_ARGUMENT', `cannot read ${what} ${shown}: ${messageOf(e)}`, { cause: e, hint: 'pass the path of an existing file' });
  }
  if (data.length > MAX_DEFINITION_BYTES) {
    throw new CairnError('INVALID_ARGUMENT', `${what} ${shown} is larger than ${MAX_DEFINITION_BYTES} bytes`, { hint: 'a definition file is a few kilobytes: pass the right file' });
  }
  return data.toString('utf8');
}
