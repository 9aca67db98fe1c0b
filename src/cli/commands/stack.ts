/**
 * `cairn stack create`: stack.toml (+ stack.lock) → a build image and a run image composed from Debian
 * packages (src/platform/make-stack.ts). Everything that can fail on bad input fails before anything is
 * written to a store; stack.lock is (re)written only once both images are stored.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { cairnHome } from '../../oci/store/local.js';
import { formatTarget, parseTarget } from '../../oci/transport.js';
import { makeStack } from '../../platform/make-stack.js';
import { trustingFetch } from '../../platform/trusting-fetch.js';
import type { CliContext } from '../context.js';
import { registryFlags, registryOptionsFrom } from '../flags.js';
import { store } from './builder.js';

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
  const stack = await makeStack({
    configPath: resolve(ctx.cwd, o.config),
    configName: o.config,
    home: cairnHome(ctx.env),
    update: o.update === true,
    now: ctx.now(),
    root: process.getuid?.() === 0,
    fetch: trustingFetch(ctx.env),
    log: (m) => void ctx.stderr.write(`${m}\n`),
    warn: (m) => void ctx.stderr.write(`warning: ${m}\n`),
  });
  const digests = {
    build: await store(stack.build, targets.build, ctx, reg),
    run: await store(stack.run, targets.run, ctx, reg),
  };
  await stack.writeLock();
  const seconds = (performance.now() - started) / 1000;
  if (o.json) {
    ctx.stdout.write(JSON.stringify({
      buildImage: { reference: formatTarget(targets.build), digest: digests.build, cached: stack.cached.build },
      runImage: { reference: formatTarget(targets.run), digest: digests.run, cached: stack.cached.run },
      lock: stack.lockPath, lockWritten: stack.resolved, seconds: Number(seconds.toFixed(1)),
    }, null, 2) + '\n');
  } else {
    ctx.stdout.write(`build image ${formatTarget(targets.build)}\n  digest ${digests.build}${stack.cached.build ? ' (layer from cache)' : ''}\n`);
    ctx.stdout.write(`run image   ${formatTarget(targets.run)}\n  digest ${digests.run}${stack.cached.run ? ' (layer from cache)' : ''}\n`);
    ctx.stdout.write(`${stack.resolved ? 'wrote' : 'used'} ${stack.lockPath} (${seconds.toFixed(1)} s)\n`);
  }
}
