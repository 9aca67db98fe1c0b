/**
 * `cairn builder create|inspect|suggest` (src/builder/): builders in pack's format, assembled from a build
 * image (usually made by `cairn stack create`), buildpacks, and cairn's launcher compiled in that image.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { type BuilderDescription, describeBuilder } from '../../builder/inspect.js';
import { SUGGESTED_BUILDERS } from '../../builder/suggest.js';
import { writeImage } from '../../oci/copy.js';
import { CairnError, messageOf } from '../../oci/errors.js';
import { type Image, loadImage } from '../../oci/image.js';
import { openTarget, type OpenedTarget, type RegistryOptions } from '../../oci/open-target.js';
import { cairnHome } from '../../oci/store/local.js';
import { formatTarget, parseTarget, type Target } from '../../oci/transport.js';
import { makeBuilder } from '../../platform/make-builder.js';
import { packageFile } from '../package-file.js';
import { type CliContext, targetContext } from '../context.js';
import { collect, registryFlags, registryOptionsFrom } from '../flags.js';
import { printTable } from '../format.js';
import { hostPlatform, type PlatformChoice } from '../platform.js';
import { VERSION } from '../version.js';

export function builderCommand(ctx: CliContext): Command {
  const builder = new Command('builder').description('create, inspect and list builders (build image + lifecycle + buildpacks)');

  registryFlags(builder.command('create').argument('<ref>', 'where to write the builder (local store name, oci:DIR:TAG, a registry with --publish)'))
    .description('create a builder from a builder.toml (pack\'s format; see docs/builder.md)')
    .requiredOption('--config <file>', 'the builder definition (builder.toml)')
    .option('--runtime <name=dir>', 'carry a runtime for the buildpacks at /cnb/runtime/<name>/ (repeatable), e.g. node=DIR with DIR/bin/node for cairn\'s Node.js buildpacks', collect)
    .option('--publish', 'bare names are registry references (docker.io defaults), as in pack')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, o: { config: string; runtime?: string[]; publish?: boolean; json?: boolean } & Record<string, unknown>) => {
      const reg = await registryOptionsFrom(o, ctx);
      const runtimes = await runtimeFlags(o.runtime ?? [], ctx);
      const target = parseTarget(ref, { publish: o.publish === true });
      const home = cairnHome(ctx.env);
      const images = imageOpener(ctx, reg);
      await mkdir(join(home, 'tmp'), { recursive: true });
      const workDir = await mkdtemp(join(home, 'tmp', 'builder-'));
      try {
        const created = await makeBuilder({
          configPath: resolve(ctx.cwd, o.config),
          configName: o.config,
          home,
          workDir,
          hostPlatform: hostPlatform(process.arch),
          version: VERSION,
          runtimes,
          lifecycleBundle: packageFile('dist/cairn.mjs'),
          openImage: images.open,
          ...(ctx.env.PATH ? { searchPath: ctx.env.PATH } : {}),
          warn: (m) => void ctx.stderr.write(`warning: ${m}\n`),
        });
        const digest = await store(created.image, target, ctx, reg);
        if (o.json) {
          ctx.stdout.write(JSON.stringify({ reference: formatTarget(target), digest, buildpacks: created.buildpacks.map((m) => ({ id: m.info.id, version: m.info.version, layerDiffID: m.layer.diffID })), order: created.order }, null, 2) + '\n');
        } else {
          ctx.stdout.write(`builder ${formatTarget(target)}\n  digest ${digest}\n  ${created.buildpacks.length} buildpacks, ${created.order.length} order groups, run image ${created.runImage}\n`);
        }
      } finally {
        await images.closeAll();
        await rm(workDir, { recursive: true, force: true });
      }
    });

  registryFlags(builder.command('inspect').argument('<ref>', 'the builder image'))
    .description('show a builder\'s buildpacks, detection order, run images and lifecycle')
    .option('--json', 'print as JSON')
    .action(async (ref: string, o: { json?: boolean } & Record<string, unknown>) => {
      const images = imageOpener(ctx, await registryOptionsFrom(o, ctx));
      try {
        const target = parseTarget(ref);
        const d = describeBuilder(await images.open(ref, hostPlatform(process.arch), 'builder'), formatTarget(target));
        if (o.json) ctx.stdout.write(JSON.stringify({ reference: formatTarget(target), ...d }, null, 2) + '\n');
        else printBuilder(ctx, formatTarget(target), d);
      } finally {
        await images.closeAll();
      }
    });

  builder.command('suggest')
    .description('list builders to start from: cairn\'s own and well-known public ones')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) => {
      if (o.json) {
        ctx.stdout.write(JSON.stringify(SUGGESTED_BUILDERS, null, 2) + '\n');
        return;
      }
      ctx.stdout.write('Suggested builders:\n');
      printTable(ctx.stdout, ['  VENDOR', 'IMAGE', 'DESCRIPTION'], SUGGESTED_BUILDERS.map((b) => [`  ${b.vendor}`, b.image, b.description]));
      ctx.stdout.write('\nPublic builders are pulled from their registries (docker.io, gcr.io), which must be reachable.\n');
    });
  return builder;
}

/** `--runtime NAME=DIR` flags → folders that hold something (checked now, before any work). */
async function runtimeFlags(flags: string[], ctx: CliContext): Promise<{ name: string; dir: string }[]> {
  const out: { name: string; dir: string }[] = [];
  for (const f of flags) {
    const i = f.indexOf('=');
    if (i <= 0) throw new CairnError('INVALID_ARGUMENT', `--runtime ${f}: expected NAME=DIR`, { hint: 'e.g. --runtime node=./node-v20 (a folder holding bin/node)' });
    const dir = resolve(ctx.cwd, f.slice(i + 1));
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new CairnError('INVALID_ARGUMENT', `--runtime ${f}: ${dir} is not a folder`, { hint: 'name the folder to carry at /cnb/runtime/NAME' });
    out.push({ name: f.slice(0, i), dir });
  }
  return out;
}

function printBuilder(ctx: CliContext, ref: string, d: BuilderDescription): void {
  const out: string[] = [
    `Builder:      ${ref}`,
    `Digest:       ${d.digest}`,
    `Description:  ${d.description || '-'}`,
    `Created by:   ${d.createdBy.name ? `${d.createdBy.name} ${d.createdBy.version}` : '-'}`,
    `Platform:     ${d.os}/${d.architecture}`,
    `Stack:        ${d.stackId ?? '-'}`,
    `CNB user:     ${d.user.uid ?? '?'}:${d.user.gid ?? '?'}`,
    `Builder API:  ${d.builderApi ?? '-'}`,
    'Run images:',
    ...(d.runImages.length === 0 ? ['  (none)'] : d.runImages.flatMap((r) => [`  ${r.image}`, ...r.mirrors.map((m) => `    mirror: ${m}`)])),
    'Lifecycle:',
    `  Version:         ${d.lifecycle.version || '-'}`,
    `  Buildpack APIs:  ${apiText(d.lifecycle.apis.buildpack)}`,
    `  Platform APIs:   ${apiText(d.lifecycle.apis.platform)}`,
    'Buildpacks:',
  ];
  ctx.stdout.write(out.join('\n') + '\n');
  if (d.buildpacks.length === 0) ctx.stdout.write('  (none)\n');
  else printTable(ctx.stdout, ['  ID', 'VERSION', 'API', 'HOMEPAGE'], d.buildpacks.map((b) => [`  ${b.id}`, b.version, b.api || '-', b.homepage ?? '']));
  ctx.stdout.write('Detection order:\n');
  if (d.order.length === 0) ctx.stdout.write('  (none)\n');
  d.order.forEach((g, i) => {
    ctx.stdout.write(`  Group #${i + 1}:\n`);
    for (const r of g.group) ctx.stdout.write(`    ${r.id}@${r.version ?? '*'}${r.optional ? ' (optional)' : ''}\n`);
  });
}

function apiText(s: { supported: string[]; deprecated: string[] }): string {
  const parts = [s.supported.join(', ') || '-'];
  if (s.deprecated.length > 0) parts.push(`(deprecated: ${s.deprecated.join(', ')})`);
  return parts.join(' ');
}

/**
 * Opens images named by references, keeping their stores open until `closeAll` (their layers are read
 * when the result is written). `docker://NAME` without a registry host names the local store, as pack
 * looks in the daemon first.
 */
export function imageOpener(ctx: CliContext, reg: RegistryOptions): { open(ref: string, platform: PlatformChoice, what: string): Promise<Image>; closeAll(): Promise<void> } {
  const opened: OpenedTarget[] = [];
  return {
    async open(ref, platform, what) {
      const target = parseTarget(ref.startsWith('docker://') && !hasRegistryHost(ref.slice('docker://'.length)) ? ref.slice('docker://'.length) : ref);
      const t = await openTarget(target, 'read', targetContext(ctx), reg);
      opened.push(t);
      try {
        return await loadImage(t.store, t.key, { platform });
      } catch (e) {
        throw new CairnError(e instanceof CairnError ? e.code : 'NOT_FOUND', `cannot read the ${what} ${formatTarget(target)}: ${messageOf(e)}`, {
          cause: e, hint: what === 'build image' ? 'create it with `cairn stack create`, or name an image that exists' : 'check the reference (`cairn image ls` lists the local store)',
        });
      }
    },
    async closeAll() {
      for (const t of opened.splice(0)) await t.store.close().catch(() => undefined);
    },
  };
}

function hasRegistryHost(ref: string): boolean {
  const first = ref.split('/')[0]!;
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

export async function store(image: Image, target: Target, ctx: CliContext, reg: RegistryOptions): Promise<string> {
  const dest = await openTarget(target, 'write', targetContext(ctx), reg);
  try {
    const r = await writeImage(image, dest.store, dest.key);
    await dest.store.close();
    return r.digest;
  } catch (e) {
    await dest.store.discard?.();
    throw e;
  }
}

export { readDefinition as readText } from '../../platform/read-definition.js';
