/**
 * `cairn stack create`: stack.toml (+ stack.lock) → a build image and a run image composed from Debian
 * packages (src/stack/, src/stack/image/). Everything that can fail on bad input — the config, the lock,
 * the references, resolution, downloads, signatures, checksums, configuration — fails before anything
 * is written to a store; stack.lock is (re)written only once both images are stored.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { writeFileAtomic } from '../../oci/atomic-file.js';
import { CairnError, messageOf } from '../../oci/errors.js';
import { cairnHome } from '../../oci/store/local.js';
import { formatTarget, parseTarget } from '../../oci/transport.js';
import { parseStackConfig } from '../../stack/config.js';
import { configurePackages } from '../../stack/configure.js';
import { ContentCache } from '../../stack/debian/cache.js';
import { findBundledKeysDir, loadKeyring } from '../../stack/debian/keyring.js';
import { createStackImages } from '../../stack/image/create-stack.js';
import { LayerCache } from '../../stack/image/layer-cache.js';
import { formatStackLock, parseStackLock } from '../../stack/lock.js';
import { lockStack } from '../../stack/lock-stack.js';
import type { CliContext } from '../context.js';
import { registryFlags, registryOptionsFrom } from '../flags.js';
import { readText, store } from './builder.js';

interface CreateFlags {
  config: string;
  buildImage: string;
  runImage: string;
  update?: boolean;
  publish?: boolean;
  json?: boolean;
}

export function stackCommand(ctx: CliContext): Command {
  const stack = new Command('stack').description('compose stacks (a build image and a run image) from Debian packages');
  registryFlags(stack.command('create'))
    .description('create the build and run images of a stack.toml (docs/stack-toml.md), locked by the stack.lock beside it')
    .requiredOption('--config <file>', 'the stack definition (stack.toml)')
    .requiredOption('--build-image <ref>', 'where to write the build image (local store name, oci:DIR:TAG, a registry with --publish)')
    .requiredOption('--run-image <ref>', 'where to write the run image')
    .option('--update', 'resolve the packages anew and rewrite stack.lock')
    .option('--publish', 'bare names are registry references (docker.io defaults), as in pack')
    .option('--json', 'print the result as JSON')
    .action(async (o: CreateFlags & Record<string, unknown>) => {
      await createStack(o, ctx);
    });
  return stack;
}

async function createStack(o: CreateFlags & Record<string, unknown>, ctx: CliContext): Promise<void> {
  const started = performance.now();
  const reg = await registryOptionsFrom(o, ctx);
  const targets = { build: parseTarget(o.buildImage, { publish: o.publish === true }), run: parseTarget(o.runImage, { publish: o.publish === true }) };
  const configPath = resolve(ctx.cwd, o.config);
  const config = parseStackConfig(await readText(configPath, o.config, 'the stack definition'), { what: o.config, baseDir: dirname(configPath) });
  const lockPath = join(dirname(configPath), 'stack.lock');
  const lockText = await readFile(lockPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new CairnError('IO', `cannot read ${lockPath}: ${messageOf(e)}`, { cause: e, hint: 'check the file\'s permissions' });
  });
  const existing = lockText === undefined ? undefined : parseStackLock(lockText, lockPath);
  const keysDir = findBundledKeysDir(import.meta.url);
  if (!keysDir) throw new CairnError('NOT_FOUND', 'Debian\'s archive keys (stacks/keys) are not where cairn is installed', { hint: 'reinstall cairn; the keys ship with it' });
  const keyring = await loadKeyring(keysDir);
  const log = (m: string): void => void ctx.stderr.write(`${m}\n`);
  const warn = (m: string): void => void ctx.stderr.write(`warning: ${m}\n`);

  const home = cairnHome(ctx.env);
  const debs = new ContentCache(join(home, 'debian'));
  await mkdir(join(home, 'tmp'), { recursive: true });
  const workDir = await mkdtemp(join(home, 'tmp', 'stack-'));
  try {
    const { lock, resolved } = await lockStack({ config, ...(existing ? { lock: existing } : {}), update: o.update === true, keyring, cache: debs, fetch, now: ctx.now(), warn });
    if (resolved) log(`resolved ${lock.build.packages.length} build and ${lock.run.packages.length} run packages`);
    const root = process.getuid?.() === 0;
    const images = await createStackImages({
      config, lock, debs, layers: new LayerCache(join(home, 'stack-layers')), workDir, fetch, warn, log,
      ...(root ? { configure: (tree) => configurePackages(tree) } : { configureUnavailable: 'cairn is not running as root' }),
    });
    const digests = {
      build: await store(images.build, targets.build, ctx, reg),
      run: await store(images.run, targets.run, ctx, reg),
    };
    if (resolved) await writeFileAtomic(lockPath, formatStackLock(lock));
    const seconds = (performance.now() - started) / 1000;
    if (o.json) {
      ctx.stdout.write(JSON.stringify({
        buildImage: { reference: formatTarget(targets.build), digest: digests.build, cached: images.cached.build },
        runImage: { reference: formatTarget(targets.run), digest: digests.run, cached: images.cached.run },
        lock: lockPath, lockWritten: resolved, seconds: Number(seconds.toFixed(1)),
      }, null, 2) + '\n');
    } else {
      ctx.stdout.write(`build image ${formatTarget(targets.build)}\n  digest ${digests.build}${images.cached.build ? ' (layer from cache)' : ''}\n`);
      ctx.stdout.write(`run image   ${formatTarget(targets.run)}\n  digest ${digests.run}${images.cached.run ? ' (layer from cache)' : ''}\n`);
      ctx.stdout.write(`${resolved ? 'wrote' : 'used'} ${lockPath} (${seconds.toFixed(1)} s)\n`);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
