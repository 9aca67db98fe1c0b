/**
 * `cairn image copy|ls|inspect|rm`: a small crane-like surface over the OCI core, accepting every
 * transport (see src/oci/transport.ts).
 */
import { Command } from 'commander';
import { copyRef, writeImage } from '../../oci/copy.js';
import { progressReporter } from '../progress-reporter.js';
import { type Image, loadImage } from '../../oci/image.js';
import { formatTarget, parseTarget } from '../../oci/transport.js';
import { type CliContext, targetContext } from '../context.js';
import { registryFlags, registryOptionsFrom } from '../flags.js';
import { formatBytes, printTable } from '../format.js';
import { cairnHome, openLocalStore } from '../../oci/store/local.js';
import { openTarget } from '../../oci/open-target.js';
import { hostPlatform, parsePlatform, type PlatformChoice } from '../platform.js';

export function imageCommand(ctx: CliContext): Command {
  const image = new Command('image').description('copy, list, inspect and remove images in any store');

  registryFlags(image.command('copy').argument('<src>', 'source image').argument('<dst>', 'destination image'))
    .description('copy an image between stores (local, oci:, oci-archive:, docker-archive:, docker-daemon:, registries)')
    .option('--platform <os/arch>', 'copy only this platform of a multi-platform index')
    .option('--json', 'print the result as JSON')
    .action(async (src: string, dst: string, o: { platform?: string; json?: boolean } & Record<string, unknown>) => {
      const reg = await registryOptionsFrom(o, ctx);
      const from = parseTarget(src);
      const to = parseTarget(dst);
      const source = await openTarget(from, 'read', targetContext(ctx), reg);
      const dest = await openTarget(to, 'write', targetContext(ctx), reg, { defaultName: source.name });
      try {
        const single = o.platform !== undefined || !dest.holdsIndexes;
        const progress = o.json ? undefined : progressReporter(ctx.stderr, 'copy');
        const opts = progress ? { progress: progress.sink } : {};
        let result;
        try {
          result = single
            ? await writeImage(await loadImage(source.store, source.key, { platform: choosePlatform(o.platform) }), dest.store, dest.key, opts)
            : await copyRef(source.store, source.key, dest.store, dest.key, opts);
          await dest.store.close();
        } catch (e) {
          await dest.store.discard?.();
          throw e;
        } finally {
          progress?.end();
        }
        if (o.json) ctx.stdout.write(JSON.stringify({ source: formatTarget(from), destination: formatTarget(to), ...result }) + '\n');
        else ctx.stdout.write(`copied ${formatTarget(from)} to ${formatTarget(to)}\n  digest ${result.digest}; ${result.blobsWritten} blobs written (${formatBytes(result.bytesWritten)}), ${result.blobsSkipped} already there, ${result.blobsMounted} mounted\n`);
      } finally {
        await source.store.close();
      }
    });

  image.command('ls')
    .description('list the images in the local store')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const local = { store: await openLocalStore(cairnHome(ctx.env)) };
      const rows: { reference: string; digest: string; size: number }[] = [];
      for (const tag of await local.store.listTags()) {
        const m = await local.store.getManifest(tag);
        const img = await loadImage(local.store, m.digest, { platform: hostPlatform(process.arch) }).catch(() => undefined);
        rows.push({ reference: tag, digest: m.digest, size: img ? imageSize(img) : 0 });
      }
      if (o.json) ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else printTable(ctx.stdout, ['REFERENCE', 'DIGEST', 'SIZE'], rows.map((r) => [r.reference, r.digest.slice(0, 19), formatBytes(r.size)]));
    });

  registryFlags(image.command('inspect').argument('<ref>', 'image to inspect'))
    .description('show an image\'s manifest, config and layers')
    .option('--platform <os/arch>', 'platform to pick from a multi-platform index')
    .option('--json', 'print the manifest and config as JSON')
    .action(async (ref: string, o: { platform?: string; json?: boolean } & Record<string, unknown>) => {
      const target = parseTarget(ref);
      const src = await openTarget(target, 'read', targetContext(ctx), await registryOptionsFrom(o, ctx));
      try {
        const img = await loadImage(src.store, src.key, { platform: choosePlatform(o.platform) });
        if (o.json) {
          ctx.stdout.write(JSON.stringify({ reference: formatTarget(target), digest: img.digest, mediaType: img.mediaType, manifest: img.manifest, config: img.config }, null, 2) + '\n');
          return;
        }
        printInspect(ctx, formatTarget(target), img);
      } finally {
        await src.store.close();
      }
    });

  registryFlags(image.command('rm').argument('<ref...>', 'images to remove'))
    .description('remove tags from the local store, an oci: layout or a registry, and free unreferenced blobs')
    .action(async (refs: string[], o: Record<string, unknown>) => {
      const reg = await registryOptionsFrom(o, ctx);
      for (const ref of refs) {
        const target = parseTarget(ref);
        const t = await openTarget(target, 'write', targetContext(ctx), reg);
        try {
          await t.store.getManifest(t.key); // a clear MANIFEST_NOT_FOUND when it is not there
          await t.store.deleteTag(t.key);
          await t.gc?.();
          ctx.stdout.write(`removed ${formatTarget(target)}\n`);
        } finally {
          await t.store.close();
        }
      }
    });
  return image;
}

function choosePlatform(flag: string | undefined): PlatformChoice {
  return flag ? parsePlatform(flag) : hostPlatform(process.arch);
}

function imageSize(img: Image): number {
  return img.manifest.config.size + img.layers.reduce((n, l) => n + l.size, 0);
}

function printInspect(ctx: CliContext, ref: string, img: Image): void {
  const c = img.config;
  const cc = c.config ?? {};
  const out: string[] = [
    `Reference:   ${ref}`,
    `Digest:      ${img.digest}`,
    `Media type:  ${img.mediaType}`,
    `Platform:    ${c.os}/${c.architecture}${c.variant ? '/' + c.variant : ''}`,
    `Created:     ${c.created ?? '-'}`,
    `User:        ${cc.User || '-'}`,
    `WorkingDir:  ${cc.WorkingDir || '-'}`,
    `Entrypoint:  ${cc.Entrypoint ? JSON.stringify(cc.Entrypoint) : '-'}`,
    `Cmd:         ${cc.Cmd ? JSON.stringify(cc.Cmd) : '-'}`,
    `Env:`,
    ...(cc.Env ?? []).map((e) => `  ${e}`),
    `Labels:`,
    ...Object.entries(cc.Labels ?? {}).map(([k, v]) => `  ${k}=${v.length > 80 ? v.slice(0, 77) + '...' : v}`),
    `Layers (${img.layers.length}, ${formatBytes(imageSize(img))}):`,
    ...img.layers.map((l, i) => `  ${String(i).padStart(2)}  ${l.digest.slice(7, 19)}  ${formatBytes(l.size).padStart(9)}  diffID ${l.diffID.slice(7, 19)}`),
  ];
  ctx.stdout.write(out.join('\n') + '\n');
}
