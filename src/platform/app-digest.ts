/**
 * A digest of an app folder as a build sees it: every path (sorted), its kind, whether it is executable, a
 * symlink's target, and a file's content — not mtimes, owners or other mode bits, which the exported layers do
 * not carry either. `keep` is the include/exclude filter of app-files.ts. Files are read one at a time.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function appDigest(appDir: string, keep?: (src: string, isDir: boolean) => boolean): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const path = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(path);
      if (keep && !keep(path, st.isDirectory())) continue;
      if (st.isDirectory()) {
        hash.update(`d ${r}\n`);
        await walk(path, r);
      } else if (st.isSymbolicLink()) {
        hash.update(`l ${r} ${await readlink(path)}\n`);
      } else if (st.isFile()) {
        const file = createHash('sha256');
        for await (const chunk of createReadStream(path)) file.update(chunk as Buffer);
        hash.update(`f ${r} ${st.mode & 0o111 ? 'x' : '-'} ${file.digest('hex')}\n`);
      } else {
        hash.update(`o ${r}\n`);
      }
    }
  };
  await walk(appDir, '');
  return `sha256:${hash.digest('hex')}`;
}
