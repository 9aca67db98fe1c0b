/**
 * Tiny test images made directly with tar-stream + zlib (independent of cairn's own layer writer):
 * a config, one or more tar or tar+gzip layers and an OCI manifest serialised the way `makeImage` does
 * (`schemaVersion`, `mediaType`, `config`, `layers`), written into any Store.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { type Digest, sha256 } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import type { Descriptor, ImageConfig, Manifest } from '../../src/oci/spec.js';
import type { Store } from '../../src/oci/store/store.js';

export interface TestFile {
  /** Path inside the layer, without a leading slash, e.g. `etc/hello.txt`. */
  path: string;
  content: string | Buffer;
  mode?: number;
}

export interface TestLayer {
  blob: Buffer;
  digest: Digest;
  diffID: Digest;
  size: number;
  mediaType: string;
}

export interface TestImage {
  digest: Digest;
  manifest: Manifest;
  manifestBytes: Buffer;
  config: ImageConfig;
  configBytes: Buffer;
  layers: TestLayer[];
}

const MTIME = new Date('1980-01-01T00:00:01Z');

/** A layer holding `files` (parent folders added), sorted, with fixed mtimes and root ownership. */
export async function makeLayer(files: TestFile[], opts: { gzip?: boolean } = {}): Promise<TestLayer> {
  const pack = tar.pack();
  const dirs = new Set<string>();
  for (const f of files) {
    for (let d = posix.dirname(f.path); d !== '.' && d !== '/'; d = posix.dirname(d)) dirs.add(d);
  }
  const entries = [
    ...[...dirs].map((d) => ({ name: `${d}/`, dir: true as const })),
    ...files.map((f) => ({ name: f.path, dir: false as const, f })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    if (e.dir) pack.entry({ name: e.name, type: 'directory', mode: 0o755, mtime: MTIME, uid: 0, gid: 0 });
    else pack.entry({ name: e.name, type: 'file', mode: e.f.mode ?? 0o644, mtime: MTIME, uid: 0, gid: 0 }, Buffer.from(e.f.content));
  }
  pack.finalize();
  await done;
  const tarBytes = Buffer.concat(chunks);
  const blob = opts.gzip === false ? tarBytes : gzipSync(tarBytes);
  return {
    blob,
    digest: sha256(blob),
    diffID: sha256(tarBytes),
    size: blob.length,
    mediaType: opts.gzip === false ? MediaType.OciLayer : MediaType.OciLayerGzip,
  };
}

export interface TestImageOptions {
  /** Files of each layer (default: two small layers). */
  layers?: TestFile[][];
  gzip?: boolean;
  /** Merged into the config's `config` (Entrypoint, Env, …). */
  runtime?: ImageConfig['config'];
  /** Makes otherwise equal images differ. */
  label?: string;
}

export async function buildTestImage(opts: TestImageOptions = {}): Promise<TestImage> {
  const files = opts.layers ?? [
    [{ path: 'etc/hello.txt', content: `hello ${opts.label ?? ''}\n` }],
    [{ path: 'app/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 }],
  ];
  const layers: TestLayer[] = [];
  for (const f of files) layers.push(await makeLayer(f, opts.gzip === undefined ? {} : { gzip: opts.gzip }));
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...(opts.label ? { Labels: { test: opts.label } } : {}), ...opts.runtime },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
    history: layers.map(() => ({ created: MTIME.toISOString(), created_by: 'test' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length },
    layers: layers.map((l): Descriptor => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { digest: sha256(manifestBytes), manifest, manifestBytes, config, configBytes, layers };
}

/** Writes the blobs, then the manifest (tagged `tag` when given), as copy does. Returns the manifest digest. */
export async function writeTestImage(store: Store, image: TestImage, tag?: string): Promise<Digest> {
  for (const l of image.layers) await store.putBlob({ digest: l.digest, size: l.size, mediaType: l.mediaType }, async () => Readable.from([l.blob]));
  const c = image.manifest.config;
  await store.putBlob({ digest: c.digest, size: c.size, mediaType: c.mediaType }, async () => Readable.from([image.configBytes]));
  return store.putManifest({ mediaType: MediaType.OciManifest, bytes: image.manifestBytes }, tag);
}

/** Builds a test image and writes it to `store`. */
export async function makeTestImage(store: Store, tag?: string, opts: TestImageOptions = {}): Promise<TestImage> {
  const image = await buildTestImage(opts);
  await writeTestImage(store, image, tag);
  return image;
}

/**
 * Host programs (default /bin/sh) and the shared libraries they load (from `ldd`), as layer files at their
 * usual paths: enough for a container to run `/bin/sh -c 'echo hello'` without any base image.
 */
export function hostShellFiles(programs: string[] = ['/bin/sh']): TestFile[] {
  const paths = new Set<string>(programs);
  for (const program of programs) {
    const out = execFileSync('ldd', [program], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m) paths.add(m[1]!);
    }
  }
  return [...paths].map((p) => ({ path: p.slice(1), content: readFileSync(realpathSync(p)), mode: 0o755 }));
}
