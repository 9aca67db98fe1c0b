/**
 * Cache keys: sha256 over labelled parts, so that moving bytes from one part to the next changes the key
 * (`a`+`bc` ≠ `ab`+`c`). An absent part (undefined) differs from an empty one.
 */
import { createHash } from 'node:crypto';

export function cacheKey(parts: Readonly<Record<string, string | Buffer | undefined>>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(parts).sort()) {
    const v = parts[name];
    const bytes = v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
    h.update(`${name}\0${bytes === undefined ? '-' : `${bytes.length}`}\0`);
    if (bytes) h.update(bytes);
  }
  return `sha256:${h.digest('hex')}`;
}
