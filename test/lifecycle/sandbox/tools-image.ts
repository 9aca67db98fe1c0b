/**
 * A tiny build image for sandbox tests, made from the host's own binaries: sh, cat, id, touch, ls, sleep,
 * mkdir, chmod, readlink and the shared libraries `ldd` lists, plus an /etc/passwd with a uid-1000 `cnb` user,
 * and a few entries that exercise preparation: a whiteout, a setuid file, a file unreadable to its owner, a
 * character device, a /var/run symlink and a /cnb folder. Written into a MemoryStore and loaded as an Image.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { sha256 } from '../../../src/oci/digest.js';
import { type Image, loadImage } from '../../../src/oci/image.js';
import { MediaType } from '../../../src/oci/media-types.js';
import type { Manifest } from '../../../src/oci/spec.js';
import { MemoryStore } from '../../../src/oci/store/memory/memory-store.js';
import { type TestLayer, writeTestImage } from '../../helpers/make-image.js';

export const TOOLS = ['/bin/sh', '/bin/cat', '/usr/bin/id', '/bin/touch', '/bin/ls', '/bin/sleep', '/bin/mkdir', '/bin/chmod', '/bin/readlink'];

export type Entry =
  | { path: string; type: 'file'; content: string | Buffer; mode?: number }
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'char-device'; major: number; minor: number };

const MTIME = new Date('1980-01-01T00:00:01Z');

async function tarLayer(entries: Entry[]): Promise<TestLayer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const dirs = new Set<string>();
  for (const e of entries) for (let d = posix.dirname(e.path); d !== '.'; d = posix.dirname(d)) dirs.add(d);
  for (const e of entries) if (e.type === 'dir') dirs.delete(e.path);
  const base = { mtime: MTIME, uid: 0, gid: 0 };
  for (const d of [...dirs].sort()) pack.entry({ ...base, name: `${d}/`, type: 'directory', mode: 0o755 });
  for (const e of entries) {
    if (e.type === 'file') pack.entry({ ...base, name: e.path, type: 'file', mode: e.mode ?? 0o644 }, Buffer.from(e.content));
    else if (e.type === 'dir') pack.entry({ ...base, name: `${e.path}/`, type: 'directory', mode: e.mode ?? 0o755 });
    else if (e.type === 'symlink') pack.entry({ ...base, name: e.path, type: 'symlink', linkname: e.target, mode: 0o777 });
    else pack.entry({ ...base, name: e.path, type: 'character-device', devmajor: e.major, devminor: e.minor, mode: 0o666 });
  }
  pack.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  const blob = gzipSync(raw);
  return { blob, digest: sha256(blob), diffID: sha256(raw), size: blob.length, mediaType: MediaType.OciLayerGzip };
}

/** The host binaries and their libraries, at their usual paths. */
export function hostToolEntries(tools = TOOLS): Entry[] {
  const paths = new Set<string>(tools);
  for (const t of tools) {
    for (const line of execFileSync('ldd', [t], { encoding: 'utf8' }).split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m) paths.add(m[1]!);
    }
  }
  return [...paths].sort().map((p) => ({ path: p.slice(1), type: 'file', content: readFileSync(realpathSync(p)), mode: 0o755 }));
}

export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ncnb:x:1000:1000:CNB user:/home/cnb:/bin/sh\n';

export function baseEntries(): Entry[] {
  return [
    ...hostToolEntries(),
    { path: 'etc/passwd', type: 'file', content: PASSWD },
    { path: 'etc/group', type: 'file', content: 'root:x:0:\ncnb:x:1000:\n' },
    { path: 'etc/old.txt', type: 'file', content: 'removed by the next layer\n' },
    { path: 'etc/unreadable', type: 'file', content: 'write-only for its owner\n', mode: 0o200 },
    { path: 'etc/mtab', type: 'symlink', target: '/proc/self/mounts' },
    { path: 'bin/suid-id', type: 'file', content: readFileSync(realpathSync('/usr/bin/id')), mode: 0o4755 },
    { path: 'cnb/lifecycle/marker', type: 'file', content: 'lifecycle marker\n' },
    { path: 'home/cnb/.profile', type: 'file', content: 'from the image\n' },
    { path: 'run', type: 'dir' },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    { path: 'var/run', type: 'symlink', target: '../run' },
    { path: 'dev/null', type: 'char-device', major: 1, minor: 3 },
  ];
}

export function topEntries(): Entry[] {
  return [
    { path: 'etc/.wh.old.txt', type: 'file', content: '' },
    { path: 'etc/new.txt', type: 'file', content: 'from layer 2\n' },
  ];
}

/** Writes an image of the given layers into a fresh MemoryStore and loads it. */
export async function makeToolsImage(layers: Entry[][] = [baseEntries(), topEntries()]): Promise<Image> {
  const built: TestLayer[] = [];
  for (const l of layers) built.push(await tarLayer(l));
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/bin:/bin'] },
    rootfs: { type: 'layers' as const, diff_ids: built.map((l) => l.diffID) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length },
    layers: built.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const store = new MemoryStore('sandbox');
  const digest = await writeTestImage(store, { digest: sha256(manifestBytes), manifest, manifestBytes, config, configBytes, layers: built });
  return loadImage(store, digest);
}

/** An image whose layers count how often they are opened. */
export function countingImage(image: Image): { image: Image; opened: () => number } {
  let n = 0;
  const layers = image.layers.map((l) => ({
    ...l,
    compressed: () => {
      n++;
      return l.compressed();
    },
  }));
  return { image: { ...image, layers }, opened: () => n };
}
