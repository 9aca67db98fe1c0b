/**
 * cairn/node-engine build. Layers:
 * - `node` (launch, build, cache): `bin/node` only, plus `NODE_HOME` and `NODE_ENV=production` (launch
 *   default). Key: version + arch. Unchanged: restored from the cache, nothing downloaded, and the exporter
 *   reuses the image layer (same diffID).
 * - `node-heap` (launch), only with `BP_NODE_OPTIMIZE_MEMORY=true`: the heap-sizing exec.d program (heap.ts).
 *   Off by default, as in Paketo's node-engine: an exec.d program is a process at every container start.
 * - `node-build` (build, cache): the headers (`include/node`, found by node-gyp through
 *   `npm_config_nodedir`) and npm (`bin/npm`, `bin/npx`, `lib/node_modules/npm`). Never in the image.
 *   Key: Node.js version + arch + npm version; the npm version chosen for a Node.js version is kept in the
 *   layer's metadata, so a rebuild does not ask the registry again.
 * With an exact version (e.g. `16.20.2`) and both layers restored, the build makes no request at all; with
 * a range it reads the release list to see whether a newer match exists, at most once per RECHECK_MS: the
 * `node-build` layer (cache only, so never part of the image) keeps when a request was last resolved. A cold
 * build reads the Node.js and npm release lists at once and downloads Node.js and npm at once.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import semver from 'semver';
import {
  type BuildContext, type BuildResult, cycloneDx, downloadArchive, hashesFromIntegrity, type Layer, readLayerMetadata, type SbomComponent,
  sbomCreated, spdx,
} from '../sdk/index.js';
import { heapExecD, OPTIMIZE_MEMORY, optimizeMemory } from './heap.js';
import { nodeVersionRequest, readVersionInputs } from './inputs.js';
import { chooseNpm } from './npm-version.js';
import { type NpmArtifact, npmRegistry } from './npm-source.js';
import { resolveNodeVersion } from './resolve.js';
import { distSource, nodeArch, type NodeArtifact, registrySource } from './sources.js';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';
/** How long a range's resolution stands before the release list is read again (1 hour). */
export const RECHECK_MS = 60 * 60 * 1000;

/** 2: the heap exec.d moved out of the `node` layer (into `node-heap`, opt-in). */
const LAYOUT = '2';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function writeSboms(ctx: BuildContext, layer: Layer, components: SbomComponent[]): Promise<void> {
  const subject = { name: `${ctx.buildpack.id}:${layer.name}`, tool: { name: ctx.buildpack.id, version: ctx.buildpack.version }, created: sbomCreated(ctx.config('SOURCE_DATE_EPOCH')) };
  await layer.sbom('cdx', cycloneDx(subject, components));
  await layer.sbom('spdx', spdx(subject, components));
}

/** Waits for every job; then rethrows the first failure (none is left running unobserved). */
async function allOf(jobs: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(jobs)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function digestHashes(text: string): SbomComponent['hashes'] {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(text);
  if (hex) return [{ algorithm: 'SHA-256', hex: hex[1]! }];
  const sha1 = /^sha1:([0-9a-f]{40})$/.exec(text);
  if (sha1) return [{ algorithm: 'SHA-1', hex: sha1[1]! }];
  return hashesFromIntegrity(text);
}

export async function build(ctx: BuildContext): Promise<BuildResult> {
  const { log } = ctx;
  const inputs = await readVersionInputs(ctx);
  const req = nodeVersionRequest(inputs);
  log.info(`Node.js version requested: ${req.raw} (${req.source === 'default' ? 'no version given: the current LTS line' : req.source})`);
  for (const i of req.ignored) log.detail(`${i.source} says ${JSON.stringify(i.raw)}; ${req.source} takes precedence`);

  const arch = nodeArch(ctx.target.arch);
  const heapSizing = optimizeMemory(ctx.config(OPTIMIZE_MEMORY));
  const registry = ctx.config('BP_NODE_REGISTRY') ?? DEFAULT_REGISTRY;
  const mirror = ctx.config('BP_NODE_DIST_MIRROR');
  const source = mirror ? distSource(mirror, arch, ctx.env) : registrySource(registry, arch, ctx.env);
  const npmSource = npmRegistry(registry, ctx.env);
  const npmRequest = ctx.config('BP_NPM_VERSION') ?? 'auto';
  const prev = await readLayerMetadata(ctx.layersDir, 'node-build');
  const prevNpm = prev && prev['npm-request'] === npmRequest && prev.source === source.kind && typeof prev['npm-version'] === 'string' ? prev : undefined;
  // No earlier choice to reuse and no bundled npm to take: the npm release list is needed, so ask for it now,
  // beside the Node.js one (its failure, if any, surfaces where it is used).
  if (!prevNpm && !(source.kind === 'dist' && npmRequest === 'auto')) npmSource.prefetch();

  const exact = req.request.kind === 'range' ? semver.valid(semver.clean(req.raw) ?? '') : null;
  // The last resolution of this same request from this same source, if recent enough (and the clock known).
  const now = ctx.now();
  const resolvedAt = typeof prev?.['resolved-at'] === 'number' ? prev['resolved-at'] : undefined;
  const recent = !exact && now > 0 && resolvedAt !== undefined && now >= resolvedAt && now - resolvedAt < RECHECK_MS
    && prev?.['resolved-request'] === req.raw && prev['resolved-from'] === source.description && typeof prev['node-version'] === 'string'
    ? prev['node-version'] : undefined;
  const version = exact ?? recent ?? resolveNodeVersion(req, await source.releases(), source.description);
  log.info(`Node.js ${version} (linux-${arch}) from ${source.description}${recent ? `: ${req.raw} resolved ${Math.floor((now - resolvedAt!) / 60000)} min ago (again after ${RECHECK_MS / 60000} min)` : ''}`);

  const node = await ctx.layer('node', {
    types: { launch: true, build: true, cache: true },
    key: `node ${version} linux-${arch} layout ${LAYOUT}`,
    metadata: { version, arch },
  });

  // npm: the choice made for this Node.js version last time, else a fresh one.
  let artifact: NodeArtifact | undefined;
  const getArtifact = async () => (artifact ??= await source.artifact(version));
  let npm: { version: string; why: string; bundled: boolean };
  if (prevNpm && prevNpm['node-version'] === version) {
    npm = { version: prevNpm['npm-version'] as string, why: 'chosen for this Node.js version before', bundled: prevNpm['npm-bundled'] === true };
  } else if (source.kind === 'dist' && npmRequest === 'auto' && (await getArtifact()).bundledNpm) {
    npm = { version: (await getArtifact()).bundledNpm!, why: 'bundled with this Node.js release', bundled: true };
  } else {
    const c = chooseNpm(version, await npmSource.releases(), npmRequest === 'auto' ? undefined : npmRequest);
    npm = { ...c, bundled: false };
  }
  log.info(`npm ${npm.version} (${npm.why}), at build time only`);

  const tools = await ctx.layer('node-build', {
    types: { build: true, cache: true },
    key: `node-build ${version} linux-${arch} npm ${npm.version} layout ${LAYOUT}`,
    metadata: { 'node-version': version, 'npm-version': npm.version, 'npm-request': npmRequest, 'npm-bundled': npm.bundled, source: source.kind },
  });

  if (!exact && !recent && now > 0) Object.assign(tools.metadata, { 'resolved-request': req.raw, 'resolved-from': source.description, 'resolved-at': now });

  const jobs: Promise<void>[] = [];
  if (node.reused && tools.reused) log.info('Reusing the cached Node.js and npm layers: nothing to download');
  else jobs.push(installNode(ctx, { version, artifact: await getArtifact(), node, tools, bundledNpm: npm.bundled }));
  if (!tools.reused && !npm.bundled) jobs.push((async () => installNpm(ctx, npm.version, await npmSource.artifact(npm.version), tools))());
  await allOf(jobs);
  if (!tools.reused) {
    await mkdir(join(tools.path, 'bin'), { recursive: true });
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(tools.path, 'bin', 'npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(tools.path, 'bin', 'npx'));
    // node-gyp builds native addons against these headers instead of downloading them.
    await tools.override('npm_config_nodedir', tools.path);
  }

  if (heapSizing) {
    const nodeBin = posix.join(node.path, 'bin', 'node');
    const script = heapExecD(nodeBin);
    const heap = await ctx.layer('node-heap', { types: { launch: true }, key: `node-heap ${sha256(script)}` });
    if (!heap.reused) await heap.execD('0-node-heap', script);
    log.info(`${OPTIMIZE_MEMORY}: the V8 heap is sized from the container's memory limit at start-up`);
  }

  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const nodeComponent: SbomComponent = {
    name: 'node',
    version,
    type: 'application',
    license: 'MIT',
    hashes: digestHashes(str(node.metadata.digest) ?? ''),
    ...(str(node.metadata.purl) ? { purl: str(node.metadata.purl)! } : { purl: `pkg:generic/node@${version}` }),
    ...(str(node.metadata.url) ? { downloadUrl: str(node.metadata.url)! } : {}),
  };
  await writeSboms(ctx, node, [nodeComponent]);
  await writeSboms(ctx, tools, [
    { ...nodeComponent, name: 'node-headers' },
    {
      name: 'npm',
      version: npm.version,
      type: 'application',
      license: 'Artistic-2.0',
      purl: `pkg:npm/npm@${npm.version}`,
      hashes: digestHashes(str(tools.metadata['npm-digest']) ?? ''),
      ...(str(tools.metadata['npm-url']) ? { downloadUrl: str(tools.metadata['npm-url'])! } : {}),
    },
  ]);
  return {};
}

interface NodeInstall {
  version: string;
  artifact: NodeArtifact;
  node: Layer;
  tools: Layer;
  /** The archive's own npm goes into `tools` (dist mirror). */
  bundledNpm: boolean;
}

/** Downloads the Node.js archive; fills whichever of `node` and `tools` is not reused. */
async function installNode(ctx: BuildContext, { version, artifact: a, node, tools, bundledNpm }: NodeInstall): Promise<void> {
  const staging = join(ctx.layersDir, '.staging-node');
  const root = `${a.root}/`;
  ctx.log.info(`Downloading ${a.url}`);
  const started = ctx.now();
  const bytes = await downloadArchive(a.url, {
    env: ctx.env,
    digest: a.digest,
    staging,
    gzip: true,
    what: `Node.js ${version}`,
    map: (p) => {
      if (!p.startsWith(root)) return undefined;
      const rel = p.slice(root.length);
      if (rel === 'bin/node') return node.reused ? undefined : 'node/bin/node';
      if (tools.reused) return undefined;
      if (rel === 'include' || rel.startsWith('include/')) return `build/${rel}`;
      if (bundledNpm && (rel === 'lib/node_modules/npm' || rel.startsWith('lib/node_modules/npm/'))) return `build/${rel}`;
      return undefined;
    },
  });
  ctx.log.detail(`Node.js ${version}: ${mb(bytes)} in ${seconds(ctx.now() - started)}, ${a.digest.algorithm} verified`);
  if (!node.reused) {
    await rename(join(staging, 'node', 'bin'), join(node.path, 'bin'));
    node.metadata.url = a.url;
    node.metadata.digest = a.digestText;
    node.metadata.purl = a.purl;
    await node.override('NODE_HOME', node.path);
    await node.default('NODE_ENV', 'production', { scope: 'launch' });
  } else {
    ctx.log.detail('the node layer itself is unchanged');
  }
  if (!tools.reused) {
    await rename(join(staging, 'build', 'include'), join(tools.path, 'include'));
    if (bundledNpm) {
      await mkdir(join(tools.path, 'lib', 'node_modules'), { recursive: true });
      await rename(join(staging, 'build', 'lib', 'node_modules', 'npm'), join(tools.path, 'lib', 'node_modules', 'npm'));
    }
  }
  await rm(staging, { recursive: true, force: true });
}

/** Downloads npm from the registry into `tools/lib/node_modules/npm` (without its documentation). */
async function installNpm(ctx: BuildContext, version: string, n: NpmArtifact, tools: Layer): Promise<void> {
  const staging = join(ctx.layersDir, '.staging-npm');
  ctx.log.info(`Downloading ${n.url}`);
  const started = ctx.now();
  // docs/ and man/ serve `npm help` only: ~250 of npm's ~1,900 files, left out.
  const map = (p: string) => (p.startsWith('package/') && !/^package\/(docs|man)(\/|$)/.test(p) ? p.slice('package/'.length) : undefined);
  const bytes = await downloadArchive(n.url, { env: ctx.env, digest: n.digest, staging, gzip: true, what: `npm ${version}`, map });
  ctx.log.detail(`npm ${version}: ${mb(bytes)} in ${seconds(ctx.now() - started)}, ${n.digest.algorithm} verified`);
  await mkdir(join(tools.path, 'lib', 'node_modules'), { recursive: true });
  await rename(staging, join(tools.path, 'lib', 'node_modules', 'npm'));
  tools.metadata['npm-url'] = n.url;
  tools.metadata['npm-digest'] = n.digestText;
}
