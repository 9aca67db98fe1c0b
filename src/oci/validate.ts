/**
 * `validate(image)` recomputes every digest and size of an image: the manifest, the config, each layer's
 * compressed digest and size, and each layer's diffID (by decompressing it), and checks that the manifest,
 * the config's rootfs and the layers agree. Every test that makes an image calls it.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Digest, hashToDigest, sha256 } from './digest.js';
import { CairnError } from './errors.js';
import type { Image } from './image.js';
import { isGzipLayer, isPlainTarLayer } from './media-types.js';

export interface LayerCheck {
  digest: Digest;
  size: number;
  diffID: Digest;
}

/** Throws STORE_CORRUPT (naming every mismatch) unless the image is whole and consistent. */
export async function validate(image: Image, opts: { layers?: boolean } = {}): Promise<void> {
  const problems: string[] = [];
  if (sha256(image.rawManifest) !== image.digest) problems.push(`manifest bytes hash to ${sha256(image.rawManifest)}, not ${image.digest}`);
  const m = image.manifest;
  if (sha256(image.rawConfig) !== m.config.digest) problems.push(`config bytes hash to ${sha256(image.rawConfig)}, not ${m.config.digest}`);
  if (image.rawConfig.length !== m.config.size) problems.push(`config is ${image.rawConfig.length} bytes, manifest says ${m.config.size}`);
  const diffIDs = image.config.rootfs?.diff_ids ?? [];
  if (m.layers.length !== image.layers.length) problems.push(`manifest lists ${m.layers.length} layers, image has ${image.layers.length}`);
  if (diffIDs.length !== image.layers.length) problems.push(`config lists ${diffIDs.length} diff_ids for ${image.layers.length} layers`);
  image.layers.forEach((l, i) => {
    const d = m.layers[i];
    if (d && (d.digest !== l.digest || d.size !== l.size || d.mediaType !== l.mediaType)) problems.push(`layer ${i}: manifest descriptor differs from the layer`);
    if (diffIDs[i] !== l.diffID) problems.push(`layer ${i}: config diff_id ${String(diffIDs[i])} differs from the layer's ${l.diffID}`);
  });
  if (opts.layers !== false) {
    for (const [i, layer] of image.layers.entries()) {
      let got: LayerCheck;
      try {
        got = await checkLayerBytes(await layer.compressed(), layer.mediaType);
      } catch (e) {
        problems.push(`layer ${i} (${layer.digest}): ${(e as Error).message}`);
        continue;
      }
      if (got.digest !== layer.digest) problems.push(`layer ${i}: blob hashes to ${got.digest}, not ${layer.digest}`);
      if (got.size !== layer.size) problems.push(`layer ${i}: blob is ${got.size} bytes, not ${layer.size}`);
      if (got.diffID !== layer.diffID) problems.push(`layer ${i}: uncompressed tar hashes to ${got.diffID}, not diffID ${layer.diffID}`);
    }
  }
  if (problems.length > 0) {
    throw new CairnError('STORE_CORRUPT', `image ${image.digest} is invalid: ${problems.join('; ')}`, {
      hint: 'the image or its store is corrupt; remove it and build or pull it again',
    });
  }
}

/** Hashes a layer blob stream: compressed digest and size, and diffID of its uncompressed tar. */
export async function checkLayerBytes(blob: NodeJS.ReadableStream, mediaType: string): Promise<LayerCheck> {
  const outer = createHash('sha256');
  const inner = createHash('sha256');
  let size = 0;
  const gzip = isGzipLayer(mediaType);
  if (!gzip && !isPlainTarLayer(mediaType)) throw new CairnError('UNSUPPORTED_MEDIA_TYPE', `cannot validate layer media type ${mediaType}`);
  const gunzip = gzip ? createGunzip() : undefined;
  const tap = new Writable({
    write(chunk: Buffer, _e, cb) {
      outer.update(chunk);
      size += chunk.length;
      if (gunzip) {
        if (!gunzip.write(chunk)) gunzip.once('drain', cb);
        else cb();
      } else {
        inner.update(chunk);
        cb();
      }
    },
    final(cb) {
      if (gunzip) gunzip.end(cb);
      else cb();
    },
  });
  const drained = gunzip ? pipeline(gunzip, new Writable({ write(c: Buffer, _e, cb) { inner.update(c); cb(); } })) : Promise.resolve();
  await Promise.all([pipeline(blob, tap), drained]);
  return { digest: hashToDigest(outer), size, diffID: hashToDigest(inner) };
}
