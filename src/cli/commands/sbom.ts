/**
 * `cairn sbom download IMAGE [--output-dir DIR]` (pack's): extracts the image's SBOM layer — the one the
 * lifecycle metadata label names (`sbom.sha`) — into DIR, which then holds `layers/sbom/launch/<bp>/<layer>/
 * sbom.<ext>` as pack writes it. Any cairn reference; a registry image is read there, never pulled whole.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { CairnError } from '../../oci/errors.js';
import { loadImage } from '../../oci/image.js';
import { extractLayer } from '../../oci/layer/extract.js';
import { openTarget } from '../../oci/open-target.js';
import { formatTarget, parseTarget } from '../../oci/transport.js';
import { lifecycleMetadataOf } from '../../platform/layer-map.js';
import { type CliContext, targetContext } from '../context.js';
import { registryFlags, registryOptionsFrom } from '../flags.js';
import { hostPlatform } from '../platform.js';

export function sbomCommand(ctx: CliContext): Command {
  const sbom = new Command('sbom').description('the software bills of materials of images built with buildpacks');
  registryFlags(sbom.command('download').argument('<image>', 'the image (any cairn reference)'))
    .description('write the image\'s SBOM files under DIR/layers/sbom/')
    .option('-o, --output-dir <dir>', 'where to write them', '.')
    .option('--remote', 'pack\'s flag: cairn always reads a registry reference in the registry, without pulling the image')
    .action(async (ref: string, o: { outputDir: string } & Record<string, unknown>) => {
      const target = parseTarget(ref);
      const t = await openTarget(target, 'read', targetContext(ctx), await registryOptionsFrom(o, ctx));
      try {
        const image = await loadImage(t.store, t.key, { platform: hostPlatform(process.arch) });
        const sha = lifecycleMetadataOf(image)?.sbom?.sha;
        const layer = sha ? image.layers.find((l) => l.diffID === sha) : undefined;
        if (!layer) {
          throw new CairnError('NOT_FOUND', `${formatTarget(target)} has no SBOM layer`, {
            hint: 'it was not built by a buildpacks lifecycle, or its buildpacks wrote no SBOM (cairn\'s Node.js buildpacks do)',
          });
        }
        const dir = resolve(ctx.cwd, o.outputDir);
        const stats = await extractLayer(await layer.compressed(), dir, { stripSetid: true, devices: 'error', fifos: 'skip' });
        ctx.stdout.write(`wrote ${stats.files} SBOM file${stats.files === 1 ? '' : 's'} under ${resolve(dir, 'layers', 'sbom')}\n`);
      } finally {
        await t.store.close();
      }
    });
  return sbom;
}
