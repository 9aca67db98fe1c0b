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
 * image is stored only once it is complete.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_BUILDER } from '../builder/suggest.js';
import { StrictTable } from '../builder/strict-toml.js';
import { CairnError, messageOf } from '../oci/errors.js';
import { openTarget, type RegistryOptions } from '../oci/open-target.js';
import { cairnHome } from '../oci/store/local.js';
import { hasManifest } from '../oci/store/store.js';
import { parseTarget } from '../oci/transport.js';
import { makeBuilder } from '../platform/make-builder.js';
import { makeStack } from '../platform/make-stack.js';
import { nodeRuntime } from '../platform/node-runtime.js';
import { imageOpener, store } from './commands/builder.js';
import { type CliContext, targetContext } from './context.js';
import { packageFile } from './package-file.js';
import { hostPlatform } from './platform.js';
import { VERSION } from './version.js';

const BUILD_IMAGE = 'cairn/build:bookworm';
const RUN_IMAGE = 'cairn/run:tiny';
const NPM_REGISTRY = 'https://registry.npmjs.org';

/** True when the local store holds `ref`. */
async function inLocalStore(ref: string, ctx: CliContext, reg: RegistryOptions): Promise<boolean> {
  const t = await openTarget(parseTarget(ref), 'read', targetContext(ctx), reg);
  try {
    return await hasManifest(t.store, t.key);
  } finally {
    await t.store.close();
  }
}

/** Makes the default builder in the local store unless it is there. `log` reports each step. */
export async function ensureDefaultBuilder(ctx: CliContext, reg: RegistryOptions, log: (message: string) => void): Promise<void> {
  if (await inLocalStore(DEFAULT_BUILDER, ctx, reg)) return;
  const started = performance.now();
  const step = (m: string): void => log(`[default builder] ${m}`);
  step(`${DEFAULT_BUILDER} is not in the local store: making it once (a Debian 12 stack, Node.js for the buildpacks, cairn's buildpacks)`);
  const home = cairnHome(ctx.env);
  const warn = (m: string): void => void ctx.stderr.write(`warning: ${m}\n`);

  if (!(await inLocalStore(BUILD_IMAGE, ctx, reg) && await inLocalStore(RUN_IMAGE, ctx, reg))) {
    step('composing the stack from Debian packages (stacks/tiny)');
    const stack = await makeStack({
      configPath: packageFile('stacks/tiny/stack.toml'), configName: 'stacks/tiny/stack.toml', home, update: false, now: ctx.now(),
      root: process.getuid?.() === 0, log: (m) => step(m), warn,
    });
    await store(stack.build, parseTarget(BUILD_IMAGE), ctx, reg);
    await store(stack.run, parseTarget(RUN_IMAGE), ctx, reg);
  }

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
      hostPlatform: platform, version: VERSION, runtimes: [{ name: 'node', dir: runtime }], openImage: images.open,
      ...(ctx.env.PATH ? { searchPath: ctx.env.PATH } : {}), warn,
    });
    const digest = await store(made.image, parseTarget(DEFAULT_BUILDER), ctx, reg);
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
