/**
 * The `docker save` / `docker load` format ("docker-archive"): a tar holding `manifest.json`
 * (`[{ "Config", "RepoTags", "Layers" }]`, paths into the tar), the config and layer files, and the legacy
 * `repositories` file.
 *
 * Reading: one scan builds an entry table, then files are read in place. Each image is exposed through an
 * OCI manifest synthesised from its files (config media type OCI config; layers `tar`, `tar+gzip` or
 * `tar+zstd` by their magic bytes; digests and sizes those of the files), serialised as cairn serialises
 * manifests, so that an OCI image cairn wrote comes back with the same manifest digest. Tags are RepoTags.
 * Layouts written by docker ≤ 24 (`<id>/layer.tar`, shared layers as symlinks), docker 25+
 * (`blobs/sha256/…`) and podman (`<hex>.tar`) are read alike.
 *
 * Writing: blobs are staged beside the target; `close()` writes the archive atomically (temp + fsync +
 * rename) and deterministically: files at `blobs/sha256/<hex>` (as docker 25 writes them; layers kept as
 * stored, gzip or not, which docker 20.10 and podman 4.3 both load), sorted, with fixed times.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Digest, digestHex, hashToDigest, sha256, VerifyingStream } from '../../digest.js';
import { CairnError, messageOf } from '../../errors.js';
import { MediaType } from '../../media-types.js';
import type { Descriptor, Manifest } from '../../spec.js';
import { streamToFileAtomic, TEMP_PREFIX } from '../../atomic-file.js';
import { isDigestRef } from '../layout/index-json.js';
import { type LayoutStore, openLayoutStore } from '../layout/layout-store.js';
import { MAX_MANIFEST_BYTES } from '../layout/manifest-refs.js';
import { blobNotFound, manifestNotFound, readOnly } from '../layout/store-errors.js';
import type { ManifestData, Store } from '../store.js';
import { type StagedImage, StagingStore } from './staging-store.js';
import { indexTar, openEntry, resolveFile, type TarEntry } from './tar-index.js';
import { type PackEntry, packEntries } from './tar-pack.js';

/** One element of `manifest.json`. */
export interface DockerArchiveImage {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

// ---------------------------------------------------------------------------------------------- reading

export interface OpenDockerArchiveOptions {
  /** Where to decompress a gzip-compressed archive (`docker save | gzip`); without it such archives are refused. */
  tempDir?: string;
  /** Name for messages (default `docker-archive:<path>`). */
  name?: string;
}

interface ArchiveBlob {
  entry: TarEntry;
  mediaType: string;
}

interface ArchiveImage {
  digest: Digest;
  bytes: Buffer;
  tags: string[];
}

/** Opens a docker-archive file as a read-only Store. */
export async function openDockerArchive(path: string, opts: OpenDockerArchiveOptions = {}): Promise<DockerArchiveReader> {
  const name = opts.name ?? `docker-archive:${path}`;
  let tarPath = path;
  let scratch: string | undefined;
  try {
    if (await isGzipFile(path, name)) {
      if (!opts.tempDir) {
        throw new CairnError('INVALID_ARCHIVE', `${name} is gzip-compressed`, { hint: 'decompress it first (gunzip), or let cairn use a temp folder' });
      }
      scratch = await mkdtemp(join(opts.tempDir, 'cairn-archive-'));
      tarPath = join(scratch, 'archive.tar');
      await pipelineAsync(createReadStream(path), createGunzip(), (await open(tarPath, 'wx')).createWriteStream());
    }
    const reader = new DockerArchiveReader(name, tarPath, scratch);
    await reader.load();
    return reader;
  } catch (e) {
    if (scratch) await rm(scratch, { recursive: true, force: true });
    if (e instanceof CairnError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CairnError('NOT_FOUND', `${name}: no such file`, { cause: e, hint: 'check the path' });
    throw new CairnError('INVALID_ARCHIVE', `cannot read ${name}: ${messageOf(e)}`, { cause: e, hint: 'the file is damaged or is not a docker archive' });
  }
}

export class DockerArchiveReader implements Store {
  private entries = new Map<string, TarEntry>();
  private readonly blobs = new Map<string, ArchiveBlob>();
  private readonly list: ArchiveImage[] = [];

  constructor(
    readonly name: string,
    private readonly tarPath: string,
    private readonly scratch: string | undefined,
  ) {}

  /** @internal Scans the tar and synthesises every image's manifest. */
  async load(): Promise<void> {
    const fh = await open(this.tarPath, 'r');
    try {
      this.entries = await indexTar(fh, (await fh.stat()).size, this.name);
    } finally {
      await fh.close();
    }
    const manifestEntry = this.entries.get('manifest.json');
    if (!manifestEntry) {
      throw new CairnError('INVALID_ARCHIVE', `${this.name} has no manifest.json`, {
        hint: 'only archives written by docker 1.10 or later, podman or skopeo (docker-archive) are supported',
      });
    }
    for (const img of parseManifestJson(await this.readSmall(manifestEntry), this.name)) this.list.push(await this.synthesise(img));
  }

  /** Every image of the archive, with its (synthesised) manifest digest and its RepoTags. */
  images(): { digest: Digest; tags: string[] }[] {
    return this.list.map((i) => ({ digest: i.digest, tags: [...i.tags] }));
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    return this.blobs.get(digest)?.entry.size;
  }

  async openBlob(desc: { digest: Digest; size?: number }): Promise<Readable> {
    const blob = this.blobs.get(desc.digest);
    if (!blob) throw blobNotFound(desc.digest, this.name);
    return pipeline(openEntry(this.tarPath, blob.entry), new VerifyingStream(desc, `blob ${desc.digest} in ${this.name}`), () => undefined);
  }

  async getManifest(ref: string): Promise<ManifestData> {
    const image = isDigestRef(ref) ? this.list.find((i) => i.digest === ref) : this.list.find((i) => i.tags.some((t) => sameImageName(t, ref)));
    if (!image) throw manifestNotFound(ref, this.name, isDigestRef(ref) ? undefined : await this.listTags());
    return { digest: image.digest, bytes: Buffer.from(image.bytes), mediaType: MediaType.OciManifest };
  }

  async listTags(): Promise<string[]> {
    return [...new Set(this.list.flatMap((i) => i.tags))].sort();
  }

  putBlob(): Promise<boolean> {
    return Promise.reject(readOnly(this.name, 'store blobs'));
  }

  putManifest(): Promise<Digest> {
    return Promise.reject(readOnly(this.name, 'store manifests'));
  }

  deleteTag(): Promise<void> {
    return Promise.reject(readOnly(this.name, 'delete tags'));
  }

  /** Removes the decompressed copy of a gzip archive, if one was made. */
  async close(): Promise<void> {
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
  }

  private async synthesise(img: DockerArchiveImage): Promise<ArchiveImage> {
    const configEntry = resolveFile(this.entries, img.Config, this.name);
    const configBytes = await this.readSmall(configEntry);
    const config: Descriptor = { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length };
    this.blobs.set(config.digest, { entry: configEntry, mediaType: config.mediaType });
    const layers: Descriptor[] = [];
    for (const p of img.Layers) {
      const entry = resolveFile(this.entries, p, this.name);
      const mediaType = await this.sniffLayer(entry);
      const digest = await this.entryDigest(entry);
      this.blobs.set(digest, { entry, mediaType });
      layers.push({ mediaType, digest, size: entry.size });
    }
    // Field order as cairn's makeImage writes it, so OCI images cairn wrote keep their digest.
    const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers };
    const bytes = Buffer.from(JSON.stringify(manifest));
    return { digest: sha256(bytes), bytes, tags: img.RepoTags ?? [] };
  }

  /**
   * The digest of an entry's content. Files named `blobs/sha256/<hex>` are named by their digest (docker
   * 25+, cairn); that name is used unverified here, and every read of the blob verifies it.
   */
  private async entryDigest(entry: TarEntry): Promise<Digest> {
    const m = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(entry.name);
    if (m) return `sha256:${m[1]}` as Digest;
    const hash = createHash('sha256');
    for await (const chunk of openEntry(this.tarPath, entry)) hash.update(chunk as Buffer);
    return hashToDigest(hash);
  }

  private async sniffLayer(entry: TarEntry): Promise<string> {
    const head = Buffer.alloc(Math.min(4, entry.size));
    const fh = await open(this.tarPath, 'r');
    try {
      await fh.read(head, 0, head.length, entry.offset);
    } finally {
      await fh.close();
    }
    if (head[0] === 0x1f && head[1] === 0x8b) return MediaType.OciLayerGzip;
    if (head.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return MediaType.OciLayerZstd;
    return MediaType.OciLayer;
  }

  private async readSmall(entry: TarEntry): Promise<Buffer> {
    if (entry.size > MAX_MANIFEST_BYTES) throw new CairnError('INVALID_ARCHIVE', `${this.name}: ${entry.name} is too large (${entry.size} bytes)`, { hint: 'the archive is damaged' });
    const chunks: Buffer[] = [];
    for await (const c of openEntry(this.tarPath, entry)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}

function parseManifestJson(bytes: Buffer, name: string): DockerArchiveImage[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new CairnError('INVALID_ARCHIVE', `${name}: manifest.json is not valid JSON`, { cause: e, hint: 'the archive is damaged' });
  }
  const ok = (x: unknown): x is DockerArchiveImage => {
    const o = x as DockerArchiveImage;
    return typeof o === 'object' && o !== null && typeof o.Config === 'string' && Array.isArray(o.Layers) && o.Layers.every((l) => typeof l === 'string')
      && (o.RepoTags === null || o.RepoTags === undefined || (Array.isArray(o.RepoTags) && o.RepoTags.every((t) => typeof t === 'string')));
  };
  if (!Array.isArray(doc) || !doc.every(ok)) throw new CairnError('INVALID_ARCHIVE', `${name}: manifest.json is not a list of {Config, RepoTags, Layers}`, { hint: 'the archive is damaged' });
  return doc;
}

/**
 * Whether two image names are the same once Docker Hub's implied parts are dropped (`docker.io/library/x`
 * = `x`) and a missing tag means `latest`: `docker save` writes short names, podman full ones.
 */
export function sameImageName(a: string, b: string): boolean {
  return a === b || shortName(a) === shortName(b);
}

function shortName(n: string): string {
  let s = n.replace(/^(?:docker\.io|index\.docker\.io)\//, '');
  if (s !== n && s.startsWith('library/') && s.indexOf('/', 'library/'.length) === -1) s = s.slice('library/'.length);
  return s.lastIndexOf(':') > s.lastIndexOf('/') ? s : `${s}:latest`;
}

async function isGzipFile(path: string, name: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    if (bytesRead === 0) throw new CairnError('INVALID_ARCHIVE', `${name} is empty`, { hint: 'the file is not a docker archive' });
    return head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------- writing

/** Opens a docker-archive to be written at `path` by `close()`; blobs are staged beside it meanwhile. */
export async function createDockerArchive(path: string): Promise<DockerArchiveWriter> {
  const stageDir = join(dirname(path), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${basename(path)}.d`);
  const name = `docker-archive:${path}`;
  return new DockerArchiveWriter(name, await openLayoutStore(stageDir, { create: true, name }), path);
}

export class DockerArchiveWriter extends StagingStore {
  constructor(name: string, stage: LayoutStore, readonly path: string) {
    super(name, stage);
  }

  /** Writes the archive (when any image was stored) and removes the staging folder. */
  async close(): Promise<void> {
    try {
      const images = await this.stagedImages();
      if (images.length > 0) await streamToFileAtomic(this.path, packEntries(dockerArchiveEntries(images, (d) => this.stage.paths.blob(d))));
    } finally {
      await this.discard();
    }
  }
}

/** The sorted tar entries of a docker-archive holding `images`, whose blobs are the files `blobPath(d)`. */
export function dockerArchiveEntries(images: StagedImage[], blobPath: (d: Digest) => string): PackEntry[] {
  const blobs = new Map<string, number>();
  const manifestJson: DockerArchiveImage[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const at = (d: Descriptor): string => {
    blobs.set(d.digest, d.size);
    return `blobs/sha256/${digestHex(d.digest)}`;
  };
  for (const img of images) {
    manifestJson.push({ Config: at(img.manifest.config), RepoTags: img.tags, Layers: img.manifest.layers.map(at) });
    const top = img.manifest.layers.at(-1);
    for (const t of img.tags) {
      const i = t.lastIndexOf(':');
      (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = top ? digestHex(top.digest) : digestHex(img.manifest.config.digest);
    }
  }
  const entries: PackEntry[] = [
    { name: 'blobs', type: 'directory' },
    { name: 'blobs/sha256', type: 'directory' },
    ...[...blobs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([digest, size]): PackEntry => ({
      name: `blobs/sha256/${digestHex(digest as Digest)}`,
      type: 'file',
      size,
      open: async () => createReadStream(blobPath(digest as Digest)),
    })),
    { name: 'manifest.json', type: 'file', data: Buffer.from(JSON.stringify(manifestJson)) },
  ];
  if (Object.keys(repositories).length > 0) entries.push({ name: 'repositories', type: 'file', data: Buffer.from(JSON.stringify(sortKeys(repositories))) });
  return entries;
}

function sortKeys(r: Record<string, Record<string, string>>): Record<string, Record<string, string>> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, Object.fromEntries(Object.entries(r[k]!).sort(([a], [b]) => (a < b ? -1 : 1)))]));
}

