/**
 * Read-only image values (go-containerregistry's `v1.Image`): a manifest, its config and its layers. The
 * manifest and config are held as the exact bytes they hash to; blobs are opened only when a sink reads them.
 * New images are made by `makeImage` (and the pure functions of `mutate.ts`), which serialise
 * deterministically: the same inputs always give the same bytes and digests.
 */
import type { Readable } from 'node:stream';
import { type Digest, parseDigest, sha256, verifyBytes } from './digest.js';
import { CairnError, messageOf } from './errors.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth.js';
import { type Layer, layerDescriptor, storeLayer } from './layer.js';
import { isConfigType, isIndexType, isManifestType, MediaType } from './media-types.js';
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from './spec.js';
import type { ManifestData, Store } from './store/store.js';

export interface Image {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly rawManifest: Buffer;
  readonly manifest: Readonly<Manifest>;
  readonly rawConfig: Buffer;
  readonly config: Readonly<ImageConfig>;
  readonly layers: readonly Layer[];
}

/** Upper bound for manifests and configs read into memory: a hostile source cannot exhaust memory. */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;

export interface MakeImageOptions {
  /** Manifest and config media type family; OCI unless the base image was Docker schema 2. */
  format?: 'oci' | 'docker';
  annotations?: Record<string, string>;
}

/** Builds an image from a config and layers. `config.rootfs.diff_ids` is set from the layers. */
export function makeImage(config: ImageConfig, layers: readonly Layer[], opts: MakeImageOptions = {}): Image {
  const docker = opts.format === 'docker';
  const fullConfig: ImageConfig = { ...config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) } };
  const rawConfig = Buffer.from(JSON.stringify(fullConfig));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.DockerManifest : MediaType.OciManifest,
    config: { mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig, digest: sha256(rawConfig), size: rawConfig.length },
    layers: layers.map(layerDescriptor),
  };
  if (opts.annotations && Object.keys(opts.annotations).length > 0) manifest.annotations = { ...opts.annotations };
  const rawManifest = Buffer.from(JSON.stringify(manifest));
  return freezeImage({
    digest: sha256(rawManifest),
    mediaType: manifest.mediaType!,
    rawManifest,
    manifest,
    rawConfig,
    config: fullConfig,
    layers: [...layers],
  });
}

/** The manifest format family of an existing image. */
export function imageFormat(image: Image): 'oci' | 'docker' {
  return image.mediaType === MediaType.DockerManifest ? 'docker' : 'oci';
}

export interface LoadImageOptions {
  /** Platform to pick when the reference names an index; required to load from an index. */
  platform?: Pick<Platform, 'os' | 'architecture' | 'variant'>;
  signal?: AbortSignal;
}

/**
 * Loads an image from a store by tag or digest, selecting `platform` from an index. Verifies the manifest
 * and config bytes against their digests; layers stay lazy (their blobs are verified when read).
 */
export async function loadImage(store: Store, ref: string, opts: LoadImageOptions = {}): Promise<Image> {
  return imageOfManifest(store, ref, await store.getManifest(ref, opts.signal ? { signal: opts.signal } : {}), opts);
}

/** As loadImage, from the manifest or index `top` already fetched from `store` as `ref`. */
export async function imageOfManifest(store: Store, ref: string, top: ManifestData, opts: LoadImageOptions = {}): Promise<Image> {
  if (isIndexType(top.mediaType)) {
    const index = parseJson<Index>(top.bytes, `manifest ${ref} in ${store.name}`);
    const desc = selectPlatform(index, opts.platform, `${store.name} ${ref}`);
    const child = await store.getManifest(desc.digest, opts.signal ? { signal: opts.signal } : {});
    return imageFromManifest(store, child.bytes, child.digest, child.mediaType, opts);
  }
  return imageFromManifest(store, top.bytes, top.digest, top.mediaType, opts);
}

/** Picks the manifest for a platform out of an index (os + architecture, then variant when both name one). */
export function selectPlatform(index: Index, platform: LoadImageOptions['platform'], where: string): Descriptor {
  const manifests = (index.manifests ?? []).filter((m) => isManifestType(m.mediaType));
  const available = manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? '/' + m.platform.variant : ''}` : 'unknown')).join(', ');
  if (!platform) {
    if (manifests.length === 1) return manifests[0]!;
    throw new CairnError('NO_MATCHING_PLATFORM', `${where} is a multi-platform index (${available}) and no platform was chosen`, {
      hint: 'pass --platform OS/ARCH',
    });
  }
  const match = manifests.find((m) => m.platform && m.platform.os === platform.os && m.platform.architecture === platform.architecture &&
    (!platform.variant || !m.platform.variant || m.platform.variant === platform.variant));
  if (!match) {
    throw new CairnError('NO_MATCHING_PLATFORM', `${where} has no image for ${platform.os}/${platform.architecture} (it has: ${available || 'none'})`, {
      hint: 'pass --platform with one of the platforms listed',
    });
  }
  return match;
}

/**
 * The image of manifest bytes already fetched from `store`: the manifest and its config checked (shape,
 * digests, sizes, nesting, one diff_id per layer); layers stay lazy.
 */
export async function imageFromManifest(store: Store, rawManifest: Buffer, digest: Digest, mediaType: string, opts: LoadImageOptions = {}): Promise<Image> {
  const what = `manifest ${digest} in ${store.name}`;
  const manifest = parseJson<Manifest>(rawManifest, what);
  checkManifest(manifest, mediaType, what);
  const rawConfig = await readBlob(store, manifest.config, opts.signal);
  const config = parseJson<ImageConfig>(rawConfig, `config ${manifest.config.digest} in ${store.name}`);
  const diffIDs = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIDs) || diffIDs.length !== manifest.layers.length) {
    throw new CairnError('INVALID_CONFIG', `config ${manifest.config.digest} in ${store.name} lists ${Array.isArray(diffIDs) ? diffIDs.length : 'no'} diff_ids for ${manifest.layers.length} layers`, {
      hint: 'the image is malformed; rebuild or re-push it',
    });
  }
  const layers = manifest.layers.map((d, i) => storeLayer(store, d, parseDigest(diffIDs[i]!)));
  return freezeImage({ digest, mediaType, rawManifest, manifest, rawConfig, config, layers });
}

function checkManifest(m: Manifest, mediaType: string, what: string): void {
  const bad = (why: string) => new CairnError('INVALID_MANIFEST', `${what}: ${why}`, { hint: 'the image is malformed or is not a container image' });
  if (!isManifestType(mediaType)) throw bad(`media type ${mediaType} is not an image manifest`);
  if (m.schemaVersion !== 2) throw bad(`schemaVersion ${String(m.schemaVersion)} is not 2`);
  if (!m.config || typeof m.config !== 'object') throw bad('it has no config descriptor');
  if (!isConfigType(m.config.mediaType)) throw bad(`config media type ${m.config.mediaType} is not an image config`);
  if (!Array.isArray(m.layers)) throw bad('it has no layers array');
  for (const d of [m.config, ...m.layers]) checkDescriptor(d, bad);
}

export function checkDescriptor(d: Descriptor, bad: (why: string) => Error): void {
  if (!d || typeof d !== 'object') throw bad('a descriptor is not an object');
  if (typeof d.mediaType !== 'string') throw bad('a descriptor has no mediaType');
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(`descriptor ${String(d.digest)} has an invalid size`);
  try {
    parseDigest(String(d.digest));
  } catch (e) {
    throw bad(messageOf(e));
  }
}

/** Reads a small blob (config) fully, verified against its descriptor, bounded by MAX_JSON_BYTES. */
export async function readBlob(store: Store, desc: { digest: Digest; size: number }, signal?: AbortSignal): Promise<Buffer> {
  if (desc.size > MAX_JSON_BYTES) {
    throw new CairnError('INVALID_CONFIG', `blob ${desc.digest} in ${store.name} is ${desc.size} bytes, over the ${MAX_JSON_BYTES}-byte limit for JSON documents`, {
      hint: 'the image is malformed or hostile',
    });
  }
  const stream = await store.openBlob(desc, signal ? { signal } : {});
  const data = await readAll(stream, desc.size);
  verifyBytes(data, desc, `blob ${desc.digest} in ${store.name}`);
  return data;
}

/** Reads a stream into a buffer, failing once it exceeds `limit` bytes. */
export async function readAll(stream: Readable, limit = MAX_JSON_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > limit) {
      stream.destroy();
      throw new CairnError('SIZE_MISMATCH', `content is larger than the expected ${limit} bytes`, { hint: 'the source is corrupt or hostile' });
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parseJson<T>(bytes: Buffer, what: string): T {
  const code = what.startsWith('config') ? 'INVALID_CONFIG' : 'INVALID_MANIFEST';
  const hint = 'the image is malformed or the source is not a container image';
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
  } catch (e) {
    throw new CairnError(code, `${what} is not valid JSON: ${messageOf(e)}`, { hint });
  }
  if (nestedDeeperThan(v, MAX_JSON_DEPTH)) throw new CairnError(code, `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`, { hint });
  return v as T;
}

function freezeImage(img: Image): Image {
  return Object.freeze(img);
}
