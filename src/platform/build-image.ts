/**
 * `cairn build` as a library: the platform's part of a build (Platform API §4: what pack does around the
 * lifecycle), daemonless. The builder image's root filesystem is extracted once per digest and is the
 * sandbox's `/`; the app is copied into a fresh work folder so that buildpacks never write the user's source;
 * the image goes to its outputs before the cache is committed, so a failed write never advances the cache.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeImage } from '../oci/copy.js';
import { CairnError } from '../oci/errors.js';
import { loadImage } from '../oci/image.js';
import type { Store } from '../oci/store/store.js';
import { parseApiVersion } from '../lifecycle/api.js';
import { openVolumeCache } from '../lifecycle/cache/volume-cache.js';
import { parseOrderToml } from '../lifecycle/files/order-toml.js';
import { parseRunToml } from '../lifecycle/files/run-toml.js';
import { readCnbFile } from '../lifecycle/files/toml.js';
import type { LogSink } from '../lifecycle/phases/build-context.js';
import { commitCache, create, type CreateResult } from '../lifecycle/phases/creator.js';
import { type BuildDirs, identityDirs, SANDBOX_DIRS } from '../lifecycle/phases/dirs.js';
import { createBwrapExecutor } from '../lifecycle/sandbox/bwrap-executor.js';
import { createHostExecutor } from '../lifecycle/sandbox/host-executor.js';
import { prepareRootfs } from '../lifecycle/sandbox/rootfs-cache.js';
import { sha256 } from '../oci/digest.js';

/** The Platform API cairn speaks to its lifecycle. */
export const PLATFORM_API = '0.14';

export interface ImageRef {
  store: Store;
  /** Tag or digest in the store. */
  ref: string;
  /** How the image is named in metadata and messages. */
  name: string;
}

export interface BuildImageInput {
  appDir: string;
  builder: ImageRef;
  /** Where the image goes. */
  outputs: { store: Store; tag: string; name: string }[];
  /** The image this build replaces, whose layers can be reused (usually the first output, when readable). */
  previous?: ImageRef;
  /**
   * bwrap (default): buildpacks run sandboxed over the builder's root filesystem, extracted under `home`.
   * host: cairn runs inside the builder image itself (a CI job or a Kubernetes pod): the builder's files are
   * this machine's `/cnb`, and the build uses the real `/workspace`, `/layers` and `/platform`.
   */
  executor?: 'bwrap' | 'host';
  /** Overrides the builder's run image. */
  runImage?: ImageRef;
  /** Opens a run image named by the builder's run.toml. */
  openRunImage: (name: string) => Promise<ImageRef>;
  /** cairn's home: rootfs cache, build caches, work folders. */
  home: string;
  /** Build-time environment (`<platform>/env`): never in the image. */
  env?: Record<string, string>;
  /** Extra CA certificates (PEM) trusted during the build only (proxies, internal registries). */
  caCerts?: string[];
  cacheDir?: string;
  clearCache?: boolean;
  created?: Date;
  processType?: string;
  /** Buildpack output and phase messages. */
  log: LogSink;
  /** The lifecycle process's own environment (proxies, HOME…): only the spec's include-list reaches buildpacks. */
  processEnv: Readonly<Record<string, string | undefined>>;
  platform: { os: string; architecture: string };
  /** `PATH` to find bwrap with. */
  searchPath?: string;
  onPhase?: (phase: string, state: 'start' | 'end') => void;
  signal?: AbortSignal;
}

export interface BuildImageResult extends CreateResult {
  digest: string;
}

export async function buildImage(input: BuildImageInput): Promise<BuildImageResult> {
  const builder = await loadImage(input.builder.store, input.builder.ref, { platform: input.platform });
  const inBuilder = input.executor === 'host';
  const rootfs = inBuilder ? '/' : await prepareRootfs(builder, join(input.home, 'rootfs'), { onWarning: (m) => input.log('debug', m) });
  const builderEnv = Object.fromEntries((builder.config.config?.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const uid = Number(builderEnv.CNB_USER_ID ?? NaN);
  const gid = Number(builderEnv.CNB_GROUP_ID ?? NaN);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new CairnError('INVALID_CONFIG', `builder ${input.builder.name} sets no CNB_USER_ID/CNB_GROUP_ID in its environment`, {
      hint: 'the builder is not a CNB builder; create one with `cairn builder create`',
    });
  }
  const order = await readCnbFile(join(rootfs, 'cnb/order.toml'), parseOrderToml);
  const runImage = input.runImage ?? (await input.openRunImage(await builderRunImage(rootfs, input.builder.name)));

  const work = join(input.home, 'builds', randomBytes(6).toString('hex'));
  const dirs: BuildDirs = inBuilder
    ? identityDirs({ ...SANDBOX_DIRS, buildConfig: join(work, 'build-config') })
    : {
        host: {
          app: join(work, 'workspace'),
          layers: join(work, 'layers'),
          platform: join(work, 'platform'),
          buildpacks: join(rootfs, 'cnb/buildpacks'),
          buildConfig: join(work, 'build-config'),
        },
        sandbox: SANDBOX_DIRS,
      };
  try {
    // 0700: the build's writable folders are reachable by nobody else on the host.
    await mkdir(work, { recursive: true, mode: 0o700 });
    for (const d of [dirs.host.app, dirs.host.layers]) await mkdir(d, { recursive: true });
    await cp(input.appDir, dirs.host.app, { recursive: true, verbatimSymlinks: true });
    await mkdir(join(dirs.host.platform, 'env'), { recursive: true });
    for (const [k, v] of Object.entries(input.env ?? {})) await writeFile(join(dirs.host.platform, 'env', k), v);
    await mkdir(join(dirs.host.buildConfig, 'env'), { recursive: true });
    await cp(join(rootfs, 'cnb/build-config'), dirs.host.buildConfig, { recursive: true, force: true }).catch(() => undefined);
    if (input.caCerts?.length) await trustDuringBuild(dirs, rootfs, input.caCerts);

    const cacheDir = input.cacheDir ?? join(input.home, 'cache', sha256(input.outputs[0]!.name).slice(7, 23));
    if (input.clearCache) await rm(cacheDir, { recursive: true, force: true });
    const cache = await openVolumeCache(cacheDir, { warn: (m) => input.log('warn', m) });
    const result = await create({
      dirs,
      executor: inBuilder ? createHostExecutor() : createBwrapExecutor({ rootfs, ...(input.searchPath ? { searchPath: input.searchPath } : {}) }),
      platformApi: parseApiVersion(PLATFORM_API),
      order: order.order,
      runImage,
      ...(input.previous ? { previous: input.previous } : {}),
      cache,
      launcherPath: join(rootfs, 'cnb/lifecycle/launcher'),
      launcherInfo: { version: builder.config.config?.Labels?.['io.buildpacks.lifecycle.version'] ?? 'unknown', source: { git: { repository: 'cairn', commit: '' } } },
      uid,
      gid,
      created: input.created ?? new Date('1980-01-01T00:00:01Z'),
      ...(input.processType ? { processType: input.processType } : {}),
      // In the sandbox, buildpacks see the builder image's PATH (as in a builder container), or `sh` and
      // the system tools are not found; run inside the builder, the process's own PATH already is that.
      processEnv: inBuilder || !builderEnv.PATH ? input.processEnv : { PATH: builderEnv.PATH, ...input.processEnv },
      platform: input.platform,
      workDir: work,
      log: input.log,
      ...(input.onPhase ? { onPhase: input.onPhase } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    let digest = '';
    for (const o of input.outputs) {
      digest = (await writeImage(result.image, o.store, o.tag)).digest;
      await o.store.close();
    }
    await commitCache(cache, result.exported, (m) => input.log('warn', m));
    return { ...result, digest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The run image a builder names: `/cnb/run.toml` (Platform ≥ 0.12), else its legacy `/cnb/stack.toml`. */
async function builderRunImage(rootfs: string, builderName: string): Promise<string> {
  const run = await readCnbFile(join(rootfs, 'cnb/run.toml'), parseRunToml, true);
  const image = run?.images[0]?.image;
  if (image) return image;
  const stack = await readFile(join(rootfs, 'cnb/stack.toml'), 'utf8').catch(() => '');
  const m = /\[run-image\][^[]*?image\s*=\s*"([^"]+)"/s.exec(stack);
  if (m) return m[1]!;
  throw new CairnError('INVALID_CONFIG', `builder ${builderName} names no run image (no /cnb/run.toml or /cnb/stack.toml)`, {
    hint: 'pass --run-image, or recreate the builder with [[run.images]] in builder.toml',
  });
}

/**
 * Extra CAs for the build only: a bundle (the build image's own CAs + the extra ones) in `<platform>`, which
 * the sandbox sees read-only and no image ever contains, named by operator env defaults that node, npm, git,
 * curl, OpenSSL and Python read.
 */
async function trustDuringBuild(dirs: BuildDirs, rootfs: string, caCerts: string[]): Promise<void> {
  const system = await readFile(join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'utf8').catch(() => '');
  await mkdir(join(dirs.host.platform, 'cairn'), { recursive: true });
  await writeFile(join(dirs.host.platform, 'cairn', 'ca-certificates.crt'), [system, ...caCerts].join('\n'));
  await writeFile(join(dirs.host.platform, 'cairn', 'extra-ca-certificates.crt'), caCerts.join('\n'));
  const bundle = `${dirs.sandbox.platform}/cairn/ca-certificates.crt`;
  const env: Record<string, string> = {
    NODE_EXTRA_CA_CERTS: `${dirs.sandbox.platform}/cairn/extra-ca-certificates.crt`,
    SSL_CERT_FILE: bundle,
    GIT_SSL_CAINFO: bundle,
    CURL_CA_BUNDLE: bundle,
    REQUESTS_CA_BUNDLE: bundle,
  };
  for (const [k, v] of Object.entries(env)) await writeFile(join(dirs.host.buildConfig, 'env', k), v);
}
