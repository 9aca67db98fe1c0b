/**
 * `cairn build` as a library: the platform's part of a build (Platform API §4: what pack does around the
 * lifecycle), daemonless. The builder image's root filesystem is extracted once per digest and is the
 * sandbox's `/`; the app is copied into a fresh work folder so that buildpacks never write the user's source;
 * the image goes to its outputs before the cache is committed, so a failed write never advances the cache.
 */
import { cp, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeImage } from '../oci/copy.js';
import { CairnError } from '../oci/errors.js';
import { removeTree } from '../oci/remove-tree.js';
import { loadImage } from '../oci/image.js';
import type { ProgressSink } from '../oci/progress.js';
import type { Store } from '../oci/store/store.js';
import { parseApiVersion } from '../lifecycle/api.js';
import type { Cache } from '../lifecycle/cache/cache.js';
import { openImageCache } from '../lifecycle/cache/image-cache.js';
import { openVolumeCache } from '../lifecycle/cache/volume-cache.js';
import type { BuildMetadataProcess } from '../lifecycle/files/build-metadata-toml.js';
import type { GroupEntry } from '../lifecycle/files/group-toml.js';
import { parseOrderToml } from '../lifecycle/files/order-toml.js';
import { parseRunToml } from '../lifecycle/files/run-toml.js';
import { readCnbFile } from '../lifecycle/files/toml.js';
import type { LogSink } from '../lifecycle/phases/build-context.js';
import { commitCache, create, type CreateInput, type CreateResult } from '../lifecycle/phases/creator.js';
import { type BuildDirs, identityDirs, SANDBOX_DIRS } from '../lifecycle/phases/dirs.js';
import { createBwrapExecutor } from '../lifecycle/sandbox/bwrap-executor.js';
import { createHostExecutor } from '../lifecycle/sandbox/host-executor.js';
import { prepareRootfs } from '../lifecycle/sandbox/rootfs-cache.js';
import { createWorkDir } from './work-dir.js';
import { sha256 } from '../oci/digest.js';
import type { LoadedSource } from '../builder/buildpack-source.js';
import { appFileFilter, type AppFileRules } from './app-files.js';
import { appDigest } from './app-digest.js';
import { inputsDigest, readBuildRecord, writeBuildRecord } from './build-record.js';
import { layerDigests } from './layer-digests.js';
import { selectBuildpacks } from './select-buildpacks.js';

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
  /** project.toml's include/exclude: which app files the build sees (default: all). */
  appFiles?: AppFileRules;
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
  /**
   * pack's `--buildpack` values (select-buildpacks.ts): the buildpacks this build detects with instead of the
   * builder's order. `load` reads a folder, archive or image; relative paths are taken from `baseDir`.
   */
  buildpacks?: { refs: string[]; baseDir: string; load: (uri: string) => Promise<LoadedSource> };
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
  /** The build cache's folder (default: one per first output name under `home/cache`). */
  cacheDir?: string;
  /** Keep the build cache as an image instead of a folder (pack's --cache-image); wins over cacheDir. */
  cacheImage?: { store: Store; tag: string };
  /** Start from an empty cache (the folder is emptied; the cache image is not read). */
  clearCache?: boolean;
  /** pack's --sbom-output-dir: the build's `<layers>/sbom` (launch/, build/: SBOM files per buildpack and layer) is copied here. */
  sbomOutputDir?: string;
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
  /**
   * Skip the lifecycle when nothing changed since the last build of these outputs and they still hold its image
   * (build-record.ts). Not with `buildpacks`, whose folders and images are not part of the record.
   */
  reuse?: boolean;
  /** cairn's version, part of a build's recorded inputs. */
  toolVersion?: string;
  /**
   * The local store, when an output is in it, with the compressor's version (`process.versions.zlib`): a launch
   * layer whose blob cairn already wrote there for another image is taken from it (layer-digests.ts).
   */
  knownLayers?: { store: Store; zlib: string };
  /** Blob transfers while the image is written to its outputs. */
  progress?: ProgressSink;
  /** Each buildpack's bin/build output as it comes. */
  onBuildOutput?: CreateInput['onBuildOutput'];
  signal?: AbortSignal;
}

export interface BuildSummary {
  /** The image's manifest digest. */
  digest: string;
  /** The buildpack group that built it. */
  buildpacks: GroupEntry[];
  processes: BuildMetadataProcess[];
}

/** `reused`: nothing changed since the last build of these outputs (build-record.ts); the lifecycle did not run. */
export type BuildImageResult = (BuildSummary & { reused: true }) | (BuildSummary & CreateResult & { reused: false });

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
  const noOp = input.reuse && !input.buildpacks ? await checkNoOp(input, builder.digest, runImage) : undefined;
  if (noOp?.reused) {
    for (const o of input.outputs) await o.store.close();
    input.log('info', `nothing changed since the last build: ${noOp.reused.digest} reused`);
    return { ...noOp.reused, reused: true };
  }

  // Made before the build's folders are laid out: the sandbox's own set-up (bwrap --version) runs meanwhile.
  const executor = inBuilder ? createHostExecutor() : createBwrapExecutor({ rootfs, ...(input.searchPath ? { searchPath: input.searchPath } : {}) });
  const work = await createWorkDir(join(input.home, 'builds'));
  try {
    // The work folder is 0700: the build's writable folders are reachable by nobody else on the host.
    const selected = input.buildpacks
      ? await selectBuildpacks({ ...input.buildpacks, builderOrder: order.order, builderBuildpacks: join(rootfs, 'cnb/buildpacks'), workDir: work })
      : { buildpacksDir: join(rootfs, 'cnb/buildpacks'), order: order.order };
    const dirs: BuildDirs = inBuilder
      ? identityDirs({ ...SANDBOX_DIRS, buildpacks: selected.buildpacksDir, buildConfig: join(work, 'build-config') })
      : {
          host: {
            app: join(work, 'workspace'),
            layers: join(work, 'layers'),
            platform: join(work, 'platform'),
            buildpacks: selected.buildpacksDir,
            buildConfig: join(work, 'build-config'),
          },
          sandbox: SANDBOX_DIRS,
        };
    for (const d of [dirs.host.app, dirs.host.layers]) await mkdir(d, { recursive: true });
    const keep = appFileFilter(input.appDir, input.appFiles ?? {});
    await cp(input.appDir, dirs.host.app, { recursive: true, verbatimSymlinks: true, ...(keep ? { filter: async (src: string) => keep(src, (await lstat(src)).isDirectory()) } : {}) });
    await mkdir(join(dirs.host.platform, 'env'), { recursive: true });
    for (const [k, v] of Object.entries(input.env ?? {})) await writeFile(join(dirs.host.platform, 'env', k), v);
    await mkdir(join(dirs.host.buildConfig, 'env'), { recursive: true });
    await cp(join(rootfs, 'cnb/build-config'), dirs.host.buildConfig, { recursive: true, force: true }).catch(() => undefined);
    if (input.caCerts?.length) await trustDuringBuild(dirs, rootfs, input.caCerts);

    const cache = await openCache(input, work);
    const digests = input.knownLayers ? layerDigests(input.home, input.knownLayers.zlib, input.knownLayers.store) : undefined;
    const result = await create({
      dirs,
      executor,
      platformApi: parseApiVersion(PLATFORM_API),
      order: selected.order,
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
      ...(digests ? { knownLayer: digests.known } : {}),
      log: input.log,
      ...(input.onPhase ? { onPhase: input.onPhase } : {}),
      ...(input.onBuildOutput ? { onBuildOutput: input.onBuildOutput } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    let digest = '';
    for (const o of input.outputs) {
      digest = (await writeImage(result.image, o.store, o.tag, input.progress ? { progress: input.progress } : {})).digest;
      await o.store.close();
    }
    // A record not written only makes a later export compress again.
    await digests?.record(result.exported.compressed).catch((e: unknown) => input.log('warn', `cannot record the layers' blob digests: ${(e as Error).message}`));
    await commitCache(cache, result.exported, (m) => input.log('warn', m));
    if (input.sbomOutputDir) await copySboms(join(dirs.host.layers, 'sbom'), input.sbomOutputDir);
    const summary = { digest, buildpacks: result.detected.group.group, processes: result.built.processes };
    if (noOp) await writeBuildRecord(input.home, input.outputs.map((o) => o.name), { inputs: noOp.inputs, ...summary });
    return { ...result, ...summary, reused: false };
  } finally {
    await removeTree(work);
  }
}

/** The build's inputs digest, and the recorded build when it had the same inputs and every output still holds its image. */
async function checkNoOp(input: BuildImageInput, builderDigest: string, runImage: ImageRef): Promise<{ inputs: string; reused?: BuildSummary }> {
  const inputs = inputsDigest({
    tool: input.toolVersion ?? null,
    builder: builderDigest,
    runImage: (await runImage.store.getManifest(runImage.ref)).digest,
    app: await appDigest(input.appDir, appFileFilter(input.appDir, input.appFiles ?? {})),
    appFiles: input.appFiles ?? {},
    env: input.env ?? {},
    caCerts: input.caCerts ?? [],
    created: input.created?.toISOString() ?? null,
    processType: input.processType ?? null,
    platform: input.platform,
  });
  const record = await readBuildRecord(input.home, input.outputs.map((o) => o.name));
  if (record?.inputs !== inputs) return { inputs };
  for (const o of input.outputs) {
    const held = await o.store.getManifest(o.tag).then((m) => m.digest as string, () => undefined);
    if (held !== record.digest) return { inputs };
  }
  return { inputs, reused: { digest: record.digest, buildpacks: record.buildpacks, processes: record.processes } };
}

async function openCache(input: BuildImageInput, work: string): Promise<Cache> {
  const warn = (m: string): void => input.log('warn', m);
  if (input.cacheImage) {
    return openImageCache(input.cacheImage.store, input.cacheImage.tag, { warn, platform: input.platform, tmpDir: work, fresh: Boolean(input.clearCache) });
  }
  const dir = input.cacheDir ?? join(input.home, 'cache', sha256(input.outputs[0]!.name).slice(7, 23));
  if (input.clearCache) await rm(dir, { recursive: true, force: true });
  return openVolumeCache(dir, { warn });
}

/** Copies the build's SBOM files (pack's layout: `launch/<bp>/<layer>/sbom.<ext>`, `build/…`); none: an empty folder. */
async function copySboms(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  await cp(from, to, { recursive: true, force: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
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
