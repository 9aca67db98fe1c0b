/**
 * `cairn buildpack package|inspect` (src/builder/): buildpackages per the distribution spec, as an image
 * in any store or as a `.cnb` file, and what they (or a buildpack folder) hold.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { classifyUri, loadLayoutImage, moduleOfFolder, type LoadedSource } from '../../builder/buildpack-source.js';
import { type BuildpackageDescription, describeBuildpackage } from '../../builder/inspect.js';
import { packageBuildpack } from '../../builder/package.js';
import { DEFAULT_PACKAGE_CONFIG, parsePackageToml } from '../../builder/package-toml.js';
import { writeImage } from '../../oci/copy.js';
import { CairnError } from '../../oci/errors.js';
import { extractLayer } from '../../oci/layer/extract.js';
import { createOciArchive } from '../../oci/store/archive/oci-archive.js';
import { cairnHome } from '../../oci/store/local.js';
import { formatTarget, parseTarget } from '../../oci/transport.js';
import { createReadStream } from 'node:fs';
import type { CliContext } from '../context.js';
import { registryFlags, registryOptionsFrom } from '../flags.js';
import { printTable } from '../format.js';
import { hostPlatform } from '../platform.js';
import { imageOpener, readText, store } from './builder.js';

interface PackageFlags {
  config?: string;
  format?: string;
  path?: string;
  publish?: boolean;
  json?: boolean;
}

export function buildpackCommand(ctx: CliContext): Command {
  const buildpack = new Command('buildpack').description('package and inspect buildpacks');

  registryFlags(buildpack.command('package').argument('<ref>', 'where to write it: an image reference, or a .cnb file with --format file'))
    .description('package a buildpack (and its dependencies) as a buildpackage image or a .cnb file (pack\'s package.toml)')
    .option('--config <file>', 'the package definition (package.toml); default: the buildpack in --path')
    .option('-p, --path <dir>', 'the buildpack folder (default: the current folder); with --config, the folder its relative URIs are taken from')
    .option('--format <format>', 'image (default) or file (a .cnb: an OCI layout in a tar); a REF ending in .cnb implies file')
    .option('--publish', 'bare names are registry references (docker.io defaults), as in pack')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, o: PackageFlags & Record<string, unknown>) => {
      const format = o.format ?? (ref.endsWith('.cnb') ? 'file' : 'image');
      if (format !== 'image' && format !== 'file') throw new CairnError('INVALID_ARGUMENT', `unknown --format "${format}"`, { hint: 'use --format image or --format file' });
      const reg = await registryOptionsFrom(o, ctx);
      const target = format === 'image' ? parseTarget(ref, { publish: o.publish === true }) : undefined;
      const configPath = o.config ? resolve(ctx.cwd, o.config) : undefined;
      const config = configPath ? parsePackageToml(await readText(configPath, o.config!, 'the package definition'), o.config!) : DEFAULT_PACKAGE_CONFIG;
      const home = cairnHome(ctx.env);
      const images = imageOpener(ctx, reg);
      await mkdir(join(home, 'tmp'), { recursive: true });
      const workDir = await mkdtemp(join(home, 'tmp', 'package-'));
      try {
        const platform = hostPlatform(process.arch);
        const pkg = await packageBuildpack({
          config,
          configName: o.config ?? 'the default package config',
          sources: { baseDir: o.path ? resolve(ctx.cwd, o.path) : configPath ? dirname(configPath) : ctx.cwd, workDir, openImage: (r) => images.open(r, platform, 'buildpackage') },
          defaultArch: platform.architecture,
        });
        let digest: string;
        let where: string;
        if (target) {
          digest = await store(pkg.image, target, ctx, reg);
          where = formatTarget(target);
        } else {
          where = resolve(ctx.cwd, ref);
          const archive = await createOciArchive(where);
          try {
            digest = (await writeImage(pkg.image, archive, 'latest')).digest;
            await archive.close();
          } catch (e) {
            await archive.discard?.();
            throw e;
          }
        }
        const ids = pkg.modules.map((m) => `${m.info.id}@${m.info.version}`);
        if (o.json) ctx.stdout.write(JSON.stringify({ reference: where, format, digest, id: pkg.entry.info.id, version: pkg.entry.info.version, buildpacks: ids }, null, 2) + '\n');
        else ctx.stdout.write(`buildpackage ${where}\n  digest ${digest}\n  ${pkg.entry.info.id}@${pkg.entry.info.version}${ids.length > 1 ? `, with ${ids.filter((i) => i !== `${pkg.entry.info.id}@${pkg.entry.info.version}`).join(', ')}` : ''}\n`);
      } finally {
        await images.closeAll();
        await rm(workDir, { recursive: true, force: true });
      }
    });

  registryFlags(buildpack.command('inspect').argument('<ref>', 'a buildpackage image, a .cnb file, or a buildpack folder'))
    .description('show what a buildpackage (or a buildpack folder) holds')
    .option('--json', 'print as JSON')
    .action(async (ref: string, o: { json?: boolean } & Record<string, unknown>) => {
      const images = imageOpener(ctx, await registryOptionsFrom(o, ctx));
      const home = cairnHome(ctx.env);
      await mkdir(join(home, 'tmp'), { recursive: true });
      const workDir = await mkdtemp(join(home, 'tmp', 'inspect-'));
      try {
        const c = await classifyUri(ref, ctx.cwd);
        let d: BuildpackageDescription;
        let shown = ref;
        if (c.kind === 'builder') throw new CairnError('INVALID_ARGUMENT', `${ref} names a buildpack inside a builder`, { hint: 'inspect the builder with `cairn builder inspect`' });
        if (c.kind === 'image') {
          const target = parseTarget(ref.startsWith('docker://') ? ref.slice('docker://'.length) : ref);
          shown = formatTarget(target);
          d = describeBuildpackage(await images.open(ref, hostPlatform(process.arch), 'buildpackage'), shown);
        } else if ((await stat(c.path)).isDirectory()) {
          d = describeFolder(await moduleOfFolder(c.path, ref, workDir));
        } else {
          const dir = await mkdtemp(join(workDir, 'cnb-'));
          await extractLayer(createReadStream(c.path), dir, { stripSetid: true });
          d = describeBuildpackage(await loadLayoutImage(dir, ref), ref);
        }
        if (o.json) ctx.stdout.write(JSON.stringify({ reference: shown, ...d }, null, 2) + '\n');
        else printBuildpackage(ctx, shown, d);
      } finally {
        await images.closeAll();
        await rm(workDir, { recursive: true, force: true });
      }
    });
  return buildpack;
}

/** A folder's buildpack described like a one-buildpack package (its layer digest is what packaging it gives). */
function describeFolder(src: LoadedSource): BuildpackageDescription {
  const m = src.modules[0]!;
  return {
    digest: '',
    os: 'linux',
    architecture: '',
    id: m.info.id,
    version: m.info.version,
    buildpacks: [{ ...m.info, ...m.layerInfo, layerDiffID: m.layer.diffID }],
  };
}

function printBuildpackage(ctx: CliContext, ref: string, d: BuildpackageDescription): void {
  const entry = d.buildpacks.find((b) => b.id === d.id && b.version === d.version)!;
  const out: string[] = [
    `Buildpack:    ${ref}`,
    ...(d.digest ? [`Digest:       ${d.digest}`] : []),
    `ID:           ${d.id}`,
    `Version:      ${d.version}`,
    `Name:         ${entry.name ?? '-'}`,
    `Homepage:     ${entry.homepage ?? '-'}`,
    `API:          ${entry.api || '-'}`,
    ...(d.architecture ? [`Platform:     ${d.os}/${d.architecture}`] : []),
  ];
  if (entry.targets?.length) out.push('Targets:', ...entry.targets.map((t) => `  ${[t.os, t.arch, t.variant].filter(Boolean).join('/')}${t.distros?.length ? ` (${t.distros.map((x) => `${x.name} ${x.version ?? ''}`.trim()).join(', ')})` : ''}`));
  if (entry.stacks?.length) out.push('Stacks:', ...entry.stacks.map((s) => `  ${s.id}`));
  ctx.stdout.write(out.join('\n') + '\n');
  ctx.stdout.write('Buildpacks:\n');
  printTable(ctx.stdout, ['  ID', 'VERSION', 'API', 'LAYER'], d.buildpacks.map((b) => [`  ${b.id}`, b.version, b.api || '-', b.layerDiffID.slice(0, 19)]));
  if (entry.order?.length) {
    ctx.stdout.write('Detection order:\n');
    entry.order.forEach((g, i) => {
      ctx.stdout.write(`  Group #${i + 1}:\n`);
      for (const r of g.group) ctx.stdout.write(`    ${r.id}@${r.version ?? '*'}${r.optional ? ' (optional)' : ''}\n`);
    });
  }
}
