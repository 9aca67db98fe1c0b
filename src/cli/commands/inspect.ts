/**
 * `cairn inspect IMAGE [--json]`: what a buildpacks-built image is made of — run image, rebasable, buildpacks,
 * processes, and each layer with its size and owner. `cairn diff A B [--json]`: what changed between two
 * images, layer by layer, coloured on a terminal (base layers one colour, buildpack layers another, app
 * layers a third) so a rebase or a rebuild shows at a glance.
 */
import { Command } from 'commander';
import { type Image, loadImage } from '../../oci/image.js';
import { openTarget } from '../../oci/open-target.js';
import { formatTarget, parseTarget } from '../../oci/transport.js';
import { parseBuildMetadataLabel } from '../../lifecycle/labels/build-metadata.js';
import { BUILD_METADATA_LABEL, REBASABLE_LABEL } from '../../lifecycle/labels/names.js';
import { diffImages, type LayerOwnerKind, layerMap, lifecycleMetadataOf } from '../../platform/layer-map.js';
import { type CliContext, targetContext } from '../context.js';
import { registryFlags, registryOptionsFrom } from '../flags.js';
import { formatBytes, printTable } from '../format.js';
import { hostPlatform } from '../platform.js';

async function open(ref: string, o: Record<string, unknown>, ctx: CliContext): Promise<Image> {
  const t = await openTarget(parseTarget(ref), 'read', targetContext(ctx), await registryOptionsFrom(o, ctx));
  try {
    return await loadImage(t.store, t.key, { platform: hostPlatform(process.arch) });
  } finally {
    await t.store.close();
  }
}

export function inspectCommand(ctx: CliContext): Command {
  return registryFlags(new Command('inspect').argument('<image>', 'the image'))
    .description('show an image\'s run image, buildpacks, processes and layers')
    .option('--json', 'print as JSON')
    .action(async (ref: string, o: { json?: boolean } & Record<string, unknown>) => {
      const img = await open(ref, o, ctx);
      const md = lifecycleMetadataOf(img);
      const labels = img.config.config?.Labels ?? {};
      const build = labels[BUILD_METADATA_LABEL] ? parseBuildMetadataLabel(labels[BUILD_METADATA_LABEL]) : undefined;
      const layers = layerMap(img);
      const info = {
        image: formatTarget(parseTarget(ref)),
        digest: img.digest,
        runImage: md?.runImage,
        rebasable: labels[REBASABLE_LABEL] !== 'false' && md !== undefined,
        buildpacks: build?.buildpacks.map((b) => ({ id: b.id, version: b.version })) ?? [],
        processes: build?.processes.map((p) => ({ type: p.type, command: p.command, args: p.args, default: p.type === build.buildpackDefaultProcessType })) ?? [],
        layers,
      };
      if (o.json) {
        ctx.stdout.write(JSON.stringify(info, null, 2) + '\n');
        return;
      }
      const out = ctx.stdout;
      out.write(`Image:      ${info.image}\nDigest:     ${img.digest}\n`);
      out.write(`Run image:  ${md ? `${md.runImage.image ?? '?'} (${md.runImage.reference})` : 'not built by a buildpacks lifecycle'}\nRebasable:  ${info.rebasable}\n`);
      out.write(`Buildpacks:\n${info.buildpacks.map((b) => `  ${b.id}@${b.version}\n`).join('') || '  none\n'}`);
      out.write(`Processes:\n${info.processes.map((p) => `  ${p.type}${p.default ? ' (default)' : ''}: ${[...p.command, ...p.args].join(' ')}\n`).join('') || '  none\n'}`);
      out.write('Layers:\n');
      printTable(out, ['#', 'DIGEST', 'SIZE', 'OWNER'], layers.map((l) => [String(l.index), l.digest.slice(7, 19), formatBytes(l.size), l.owner]));
    });
}

const COLOUR: Record<LayerOwnerKind, string> = {
  base: '\x1b[34m', buildpack: '\x1b[33m', sbom: '\x1b[33m', app: '\x1b[32m', launcher: '\x1b[35m', config: '\x1b[35m', 'process-types': '\x1b[35m', unknown: '\x1b[0m',
};

export function diffCommand(ctx: CliContext): Command {
  return registryFlags(new Command('diff').argument('<a>', 'the first image').argument('<b>', 'the second image'))
    .description('compare two images layer by layer: shared, replaced, added, removed')
    .option('--json', 'print as JSON')
    .action(async (a: string, b: string, o: { json?: boolean } & Record<string, unknown>) => {
      const diff = diffImages(await open(a, o, ctx), await open(b, o, ctx));
      if (o.json) {
        ctx.stdout.write(JSON.stringify(diff, null, 2) + '\n');
        return;
      }
      const tty = Boolean(ctx.stdout.isTTY) && !ctx.env.NO_COLOR;
      const paint = (kind: LayerOwnerKind, s: string) => (tty ? `${COLOUR[kind]}${s}\x1b[0m` : s);
      const rows = diff.map((d) => [d.change, d.owner, d.a ? `${d.a.digest.slice(7, 19)} ${formatBytes(d.a.size)}` : '-', d.b ? `${d.b.digest.slice(7, 19)} ${formatBytes(d.b.size)}` : '-']);
      const widths = [8, Math.max(5, ...rows.map((r) => r[1]!.length)), 22];
      ctx.stdout.write(`${'CHANGE'.padEnd(widths[0]!)}  ${'OWNER'.padEnd(widths[1]!)}  ${'A'.padEnd(widths[2]!)}  B\n`);
      diff.forEach((d, i) => {
        const r = rows[i]!;
        ctx.stdout.write(paint(d.kind, `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}`) + '\n');
      });
      const count = (c: string) => diff.filter((d) => d.change === c).length;
      ctx.stdout.write(`${count('shared')} shared, ${count('replaced')} replaced, ${count('added')} added, ${count('removed')} removed\n`);
    });
}
