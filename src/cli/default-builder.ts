/**
 * cairn's default builder (`cairn/builder:bookworm`, builders/bookworm/): when a build names it (or names
 * no builder) and the local store does not hold it, cairn makes it, once, from what ships with cairn —
 * the same three steps a user would run by hand (builders/bookworm/builder.toml):
 *
 * 1. the tiny stack (stacks/tiny, locked by its stack.lock) → `cairn/build:bookworm`, `cairn/run:tiny`;
 * 2. the Node.js the buildpacks run on (builders/bookworm/runtime.toml, from the npm registry, integrity
 *    checked);
 * 3. the builder (builders/bookworm/builder.toml: the bundled buildpacks of dist/buildpacks/).
 *
 * Every step is deterministic, so two machines (or two concurrent builds) make the same digests, and each
 * image is stored only once it is complete. A default builder made by another cairn (other buildpacks, another
 * lock) is noticed by its inputs label and made anew.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { DEFAULT_BUILDER } from '../builder/suggest.js';
import { StrictTable } from '../builder/strict-toml.js';
import { writeFileAtomic } from '../oci/atomic-file.js';
import { CairnError, messageOf } from '../oci/errors.js';
import { loadImage } from '../oci/image.js';
import { setLabels } from '../oci/mutate.js';
import { openTarget, type RegistryOptions } from '../oci/open-target.js';
import { cairnHome } from '../oci/store/local.js';
import { hasManifest } from '../oci/store/store.js';
import { parseTarget } from '../oci/transport.js';
import { type CliContext, targetContext } from './context.js';
import { packageFile } from './package-file.js';
import { hostPlatform } from './platform.js';
import { VERSION } from './version.js';

const BUILD_IMAGE = 'cairn/build:bookworm';
const RUN_IMAGE = 'cairn/run:tiny';
const NPM_REGISTRY = 'https://registry.npmjs.org';

/**
 * The label recording what the default builder was made from: a digest of every input shipped with cairn (the
 * stack definition and lock, builder.toml, runtime.toml, the bundled buildpacks, the lifecycle it carries) and
 * cairn's version. A builder
 * whose label differs was made by another cairn, and is made anew.
 */
const INPUTS_LABEL = 'dev.cairn.default-builder.inputs';

async function defaultBuilderInputs(home: string): Promise<string> {
  const files = ['stacks/tiny/stack.toml', 'stacks/tiny/stack.lock', 'builders/bookworm/builder.toml', 'builders/bookworm/runtime.toml', 'dist/cairn.mjs'];
  const root = dirname(packageFile('package.json')); // found once: packageFile reads package.json at each call
  for (const f of (await readdir(packageFile('dist/buildpacks'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile())) {
    files.push(relative(root, join(f.parentPath, f.name)));
  }
  files.sort();
  // The digest is recorded beside the files' stat identity (size, inode, mtime, ctime): while they are the
  // same, the 2 MB are not read and hashed again. Rewriting a file sets its ctime, which nothing sets back.
  // A missing file: packageFile's error names it and the installation.
  const stats = await Promise.all(files.map((f) => stat(join(root, f)).catch(() => stat(packageFile(f)))));
  const identity = createHash('sha256').update(`cairn ${VERSION}\n`);
  for (const [i, f] of files.entries()) identity.update(`${f} ${stats[i]!.size} ${stats[i]!.ino} ${stats[i]!.mtimeMs} ${stats[i]!.ctimeMs}\n`);
  const key = identity.digest('hex');
  const memo = join(home, 'default-builder-inputs');
  const [recordedKey, recorded] = (await readFile(memo, 'utf8').catch(() => '')).split('\n');
  if (recordedKey === key && recorded) return recorded;
  const hash = createHash('sha256').update(`cairn ${VERSION}\n`);
  const contents = await Promise.all(files.map((f) => readFile(join(root, f))));
  for (const [i, f] of files.entries()) hash.update(`${f}\n`).update(contents[i]!).update('\n');
  const digest = `sha256:${hash.digest('hex')}`;
  await mkdir(home, { recursive: true }).then(() => writeFileAtomic(memo, `${key}\n${digest}\n`)).catch(() => undefined); // only a speed-up
  return digest;
}

/** The inputs label of the default builder in the local store; undefined when it is not there. */
async function madeFrom(ctx: CliContext, reg: RegistryOptions): Promise<string | undefined> {
  const t = await openTarget(parseTarget(DEFAULT_BUILDER), 'read', targetContext(ctx), reg);
  try {
    if (!(await hasManifest(t.store, t.key))) return undefined;
    return (await loadImage(t.store, t.key, { platform: hostPlatform(process.arch) })).config.config?.Labels?.[INPUTS_LABEL] ?? '';
  } finally {
    await t.store.close();
  }
}

/** Makes the default builder in the local store unless it is there, made from this cairn's files. `log` reports each step. */
export async function ensureDefaultBuilder(ctx: CliContext, reg: RegistryOptions, log: (message: string) => void): Promise<void> {
  const home = cairnHome(ctx.env);
  const [inputs, current] = await Promise.all([defaultBuilderInputs(home), madeFrom(ctx, reg)]);
  if (current === inputs) return;
  const started = performance.now();
  const step = (m: string): void => log(`[default builder] ${m}`);
  step(current === undefined
    ? `${DEFAULT_BUILDER} is not in the local store: making it once (a Debian 12 stack, Node.js for the buildpacks, cairn's buildpacks)`
    : `${DEFAULT_BUILDER} in the local store was made by another version of cairn: making it anew`);
  const warn = (m: string): void => void ctx.stderr.write(`warning: ${m}\n`);
  // Loaded only to make the builder: a build that finds it in place does not pay for the stack and builder code.
  const [{ makeStack }, { nodeRuntime }, { makeBuilder }, { imageOpener, store }, { trustingFetch }] = await Promise.all([
    import('../platform/make-stack.js'), import('../platform/node-runtime.js'), import('../platform/make-builder.js'), import('./commands/builder.js'),
    import('../platform/trusting-fetch.js'),
  ]);
  const fetch = trustingFetch(ctx.env);

  // The stack's layers are cached by lock: when only the buildpacks changed, this composes nothing.
  step('the stack from Debian packages (stacks/tiny)');
  const stack = await makeStack({
    configPath: packageFile('stacks/tiny/stack.toml'), configName: 'stacks/tiny/stack.toml', home, update: false, now: ctx.now(),
    root: process.getuid?.() === 0, fetch, log: (m) => step(m), warn,
  });
  await store(stack.build, parseTarget(BUILD_IMAGE), ctx, reg);
  await store(stack.run, parseTarget(RUN_IMAGE), ctx, reg);

  const pin = await runtimePin(packageFile('builders/bookworm/runtime.toml'));
  const platform = hostPlatform(process.arch);
  const integrity = pin.integrity[platform.architecture];
  if (!integrity) throw new CairnError('UNSUPPORTED', `the default builder has no Node.js runtime pinned for ${platform.architecture}`, { hint: 'pass --builder with a builder made for this architecture' });
  const runtime = await nodeRuntime({
    version: pin.version, arch: platform.architecture, integrity, registry: ctx.env.npm_config_registry || NPM_REGISTRY,
    cacheDir: join(home, 'runtimes'), fetch, log: step,
  });

  step('assembling the builder (builders/bookworm/builder.toml)');
  packageFile('dist/buildpacks');
  const images = imageOpener(ctx, reg);
  await mkdir(join(home, 'tmp'), { recursive: true });
  const workDir = await mkdtemp(join(home, 'tmp', 'builder-'));
  try {
    const made = await makeBuilder({
      configPath: packageFile('builders/bookworm/builder.toml'), configName: 'builders/bookworm/builder.toml', home, workDir,
      hostPlatform: platform, version: VERSION, runtimes: [{ name: 'node', dir: runtime }], lifecycleBundle: packageFile('dist/cairn.mjs'), openImage: images.open,
      ...(ctx.env.PATH ? { searchPath: ctx.env.PATH } : {}), warn,
    });
    const digest = await store(setLabels(made.image, { [INPUTS_LABEL]: inputs }), parseTarget(DEFAULT_BUILDER), ctx, reg);
    step(`${DEFAULT_BUILDER} ${digest} made in ${((performance.now() - started) / 1000).toFixed(1)} s; later builds reuse it`);
  } finally {
    await images.closeAll();
    await rm(workDir, { recursive: true, force: true });
  }
}

interface RuntimePin {
  version: string;
  integrity: Record<string, string>;
}

async function runtimePin(path: string): Promise<RuntimePin> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CairnError('IO', `cannot read ${path}: ${messageOf(e)}`, { cause: e, hint: 'reinstall cairn' });
  }
  const root = StrictTable.parse(text, 'builders/bookworm/runtime.toml', 'see the comments at the top of the file').allow(['node']);
  const node = root.table('node') ?? root.fail('node', 'is required');
  node.allow(['version', 'integrity']);
  const version = node.requiredString('version');
  const table = node.table('integrity');
  const integrity: Record<string, string> = {};
  if (table) for (const arch of Object.keys(table.raw)) integrity[arch] = table.requiredString(arch);
  return { version, integrity };
}
