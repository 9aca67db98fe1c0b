/**
 * Deterministic tar output for the archive stores: entries in the order given (callers sort them), a fixed
 * mtime, uid/gid 0 with empty user and group names, mode 0755 for folders and 0644 for files.
 */
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/** 1980-01-01T00:00:01Z, the timestamp lifecycle gives to files of reproducible layers. */
const ARCHIVE_MTIME = new Date('1980-01-01T00:00:01Z');

export type PackEntry =
  | { name: string; type: 'directory' }
  | { name: string; type: 'file'; data: Buffer }
  | { name: string; type: 'file'; size: number; open: () => Promise<Readable> };

/** A tar stream of `entries`; an entry that fails to open or read fails the stream. */
export function packEntries(entries: readonly PackEntry[]): Readable {
  const pack = tar.pack();
  const base = { mtime: ARCHIVE_MTIME, uid: 0, gid: 0, uname: '', gname: '' };
  void (async () => {
    for (const e of entries) {
      if (e.type === 'directory') {
        pack.entry({ ...base, name: `${e.name}/`, type: 'directory', mode: 0o755 });
      } else if ('data' in e) {
        pack.entry({ ...base, name: e.name, type: 'file', mode: 0o644, size: e.data.length }, e.data);
      } else {
        const source = await e.open();
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ ...base, name: e.name, type: 'file', mode: 0o644, size: e.size }, (err) => (err ? reject(err) : resolve()));
          void (async () => {
            for await (const chunk of source) {
              if (!sink.write(chunk as Buffer)) await new Promise<void>((r) => sink.once('drain', () => r()));
            }
            sink.end(undefined);
          })().catch(reject);
        });
      }
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return Readable.from(pack);
}
