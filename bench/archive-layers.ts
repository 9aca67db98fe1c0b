/**
 * The uncompressed size of each layer of the image in a docker-archive (`docker save`, `podman save`,
 * `cairn image copy … docker-archive:`): its manifest.json lists the layer files in order; a plain tar's
 * size is its file size, a gzip layer (cairn writes them as they are stored) is inflated and counted.
 * The same measure for cairn's images and the baselines'.
 */
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

/** The number of bytes `stream` gives, inflated when it starts with the gzip magic. */
async function contentSize(stream: NodeJS.ReadableStream & AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  const counter = new Writable({
    write(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      cb();
    },
  });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return 0;
  const head = first.value;
  async function* rest() {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  if (head[0] === 0x1f && head[1] === 0x8b) await pipeline(rest(), createGunzip(), counter);
  else await pipeline(rest(), counter);
  return n;
}

export async function archiveLayerSizes(file: string): Promise<number[]> {
  const sizes = new Map<string, number>();
  const links = new Map<string, string>();
  let manifest = '';
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    const done = (e?: unknown) => (e ? next(e as Error) : next());
    if (header.type === 'symlink' && header.linkname) {
      links.set(name, new URL(header.linkname, `file:///${name}`).pathname.slice(1));
      stream.on('end', done);
      stream.resume();
    } else if (name === 'manifest.json') {
      stream.on('data', (d: unknown) => {
        manifest += String(d);
      });
      stream.on('end', done);
    } else if (header.type === 'file') {
      contentSize(stream as unknown as NodeJS.ReadableStream & AsyncIterable<Buffer>).then((n) => {
        sizes.set(name, n);
        done();
      }, done);
    } else {
      stream.on('end', done);
      stream.resume();
    }
  });
  await pipeline(createReadStream(file), extract);
  const layers = (JSON.parse(manifest) as { Layers: string[] }[])[0]!.Layers;
  return layers.map((l) => sizes.get(links.get(l) ?? l) ?? 0);
}
