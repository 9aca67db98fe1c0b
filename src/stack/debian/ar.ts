/**
 * The `ar` archive format as dpkg-deb writes it (deb(5)): the magic `!<arch>\n`, then members, each a
 * 60-byte ASCII header (name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\n") followed by the data,
 * padded with `\n` to an even offset. GNU-style names end with `/`, which is dropped.
 */
import { CairnError } from '../../oci/errors.js';

export interface ArMember {
  name: string;
  data: Buffer;
}

const MAGIC = '!<arch>\n';

/** Splits an ar archive held in memory; `what` names it in INVALID_ARCHIVE errors. */
export function readAr(buf: Buffer, what: string): ArMember[] {
  if (buf.length < MAGIC.length || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new CairnError('INVALID_ARCHIVE', `${what} is not an ar archive (bad magic)`, { hint: 'the file is not a Debian package, or it is corrupt' });
  }
  const members: ArMember[] = [];
  let off = MAGIC.length;
  while (off < buf.length) {
    if (buf.length - off === 1 && buf[off] === 0x0a) break;
    if (off + 60 > buf.length) throw new CairnError('INVALID_ARCHIVE', `${what}: truncated ar member header at offset ${off}`);
    const header = buf.toString('latin1', off, off + 60);
    if (header.slice(58, 60) !== '`\n') throw new CairnError('INVALID_ARCHIVE', `${what}: bad ar member header at offset ${off}`);
    let name = header.slice(0, 16).trimEnd();
    if (name.endsWith('/') && name !== '/') name = name.slice(0, -1);
    const sizeText = header.slice(48, 58).trim();
    if (!/^[0-9]+$/.test(sizeText)) throw new CairnError('INVALID_ARCHIVE', `${what}: bad size "${sizeText}" of ar member ${name}`);
    const size = Number(sizeText);
    const start = off + 60;
    if (start + size > buf.length) throw new CairnError('INVALID_ARCHIVE', `${what}: ar member ${name} is truncated`);
    members.push({ name, data: buf.subarray(start, start + size) });
    off = start + size + (size % 2);
  }
  return members;
}
