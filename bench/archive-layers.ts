/**
 * The uncompressed size of each layer of the image in a docker-archive (`docker save`, `podman save`,
 * `cairn image copy … docker-archive:`): its manifest.json lists the layer tar files in order, and each
 * file's size is the layer's uncompressed size. The same measure for cairn's images and the baselines'.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export async function archiveLayerSizes(file: string): Promise<number[]> {
  const sizes = new Map<string, number>();
  const links = new Map<string, string>();
  let manifest = '';
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (header.type === 'symlink' && header.linkname) links.set(name, new URL(header.linkname, `file:///${name}`).pathname.slice(1));
    else sizes.set(name, header.size ?? 0);
    if (name === 'manifest.json') stream.on('data', (d: unknown) => {
      manifest += String(d);
    });
    stream.on('end', next);
    stream.resume();
  });
  await pipeline(createReadStream(file), extract);
  const layers = (JSON.parse(manifest) as { Layers: string[] }[])[0]!.Layers;
  return layers.map((l) => sizes.get(links.get(l) ?? l) ?? 0);
}
