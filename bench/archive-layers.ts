/**
 * The uncompressed size of each layer of the image in a docker-archive (`docker save`, `podman save`,
 * `cairn image copy … docker-archive:`): its manifest.json lists the layer files in order; a plain tar's
 * size is its file size, a gzip layer (cairn writes them as they are stored) is inflated and counted.
 * The same measure for cairn's images and the baselines'.
 */
import { createReadStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
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

/** The tar bytes (header + data + padding) of the entries of `layer` (a plain tar) whose path starts with `prefix`. */
async function prefixBytes(layer: Buffer, prefix: string): Promise<number> {
  let n = 0;
  const inner = tar.extract();
  inner.on('entry', (header, entry, next) => {
    const name = header.name.replace(/^\.?\//, '');
    if (name.startsWith(prefix)) n += 512 + Math.ceil((header.size ?? 0) / 512) * 512;
    entry.on('end', () => next());
    entry.resume();
  });
  await pipeline(Readable.from([layer]), inner);
  return n;
}

export interface LayerSizes {
  /** Each layer's uncompressed size. */
  sizes: number[];
  /** Each layer's tar bytes under the path prefix asked for (0 when none was asked). */
  under: number[];
}

export async function archiveLayerSizes(file: string): Promise<number[]> {
  return (await archiveLayers(file)).sizes;
}

/** archiveLayerSizes, and the bytes of entries under `prefix` in each layer. */
export async function archiveLayers(file: string, prefix?: string): Promise<LayerSizes> {
  const sizes = new Map<string, number>();
  const underPrefix = new Map<string, number>();
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
      const s = stream as unknown as NodeJS.ReadableStream & AsyncIterable<Buffer>;
      if (prefix !== undefined && !name.endsWith('.json') && name !== 'repositories') {
        // A layer, held in memory to be read twice: its inflated size, and its entries under the prefix.
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('end', () => {
          const data = Buffer.concat(chunks);
          const plain = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
          sizes.set(name, plain.length);
          // The config blob (cairn's archives name blobs by digest) is no tar.
          if (plain.subarray(257, 262).toString() !== 'ustar') return done();
          prefixBytes(plain, prefix).then((u) => {
            underPrefix.set(name, u);
            done();
          }, done);
        });
      } else {
        contentSize(s).then((n) => {
          sizes.set(name, n);
          done();
        }, done);
      }
    } else {
      stream.on('end', done);
      stream.resume();
    }
  });
  await pipeline(createReadStream(file), extract);
  const layers = (JSON.parse(manifest) as { Layers: string[] }[])[0]!.Layers;
  const of = (m: Map<string, number>) => layers.map((l) => m.get(links.get(l) ?? l) ?? 0);
  return { sizes: of(sizes), under: of(underPrefix) };
}
