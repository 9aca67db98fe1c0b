/**
 * `cairn rebase IMAGE [--run-image REF] [--force] [--publish]`: swap the run image under an app image.
 * No app layer is read, written or uploaded: to a registry, only the config and the manifest go up (the new
 * base layers are already there, or are mounted from the run image's repository).
 */
import { Command } from 'commander';
import { writeImage } from '../../oci/copy.js';
import { progressReporter } from '../progress-reporter.js';
import { CairnError } from '../../oci/errors.js';
import { imageOfManifest, loadImage } from '../../oci/image.js';
import { openTarget } from '../../oci/open-target.js';
import { formatTarget, parseTarget } from '../../oci/transport.js';
import { parseLifecycleMetadataLabel } from '../../lifecycle/labels/lifecycle-metadata.js';
import { LIFECYCLE_METADATA_LABEL } from '../../lifecycle/labels/names.js';
import { rebaseImage } from '../../platform/rebase-image.js';
import { type CliContext, targetContext } from '../context.js';
import { registryFlags, registryOptionsFrom } from '../flags.js';
import { formatBytes } from '../format.js';
import { hostPlatform } from '../platform.js';

export function rebaseCommand(ctx: CliContext): Command {
  return registryFlags(new Command('rebase').argument('<image>', 'the app image to rebase'))
    .description('put an app image on a new run image without rebuilding it')
    .option('--run-image <ref>', 'the new run image (default: the run image the app was built on, as it is now)')
    .option('--publish', 'the image is in a registry (a bare name then means docker.io)')
    .option('--force', 'rebase even onto another run image, distro or version')
    .option('--json', 'print the result as JSON')
    .action(async (image: string, o: { runImage?: string; publish?: boolean; force?: boolean; json?: boolean } & Record<string, unknown>) => {
      const reg = await registryOptionsFrom(o, ctx);
      const tctx = targetContext(ctx);
      const platform = hostPlatform(process.arch);
      const target = parseTarget(image, { publish: Boolean(o.publish) });
      const reading = new AbortController();
      const loadRun = async (name: string) => {
        const run = await openTarget(parseTarget(name), 'read', tctx, reg);
        return loadImage(run.store, run.key, { platform, signal: reading.signal });
      };
      // A run image named on the command line is read while the app image is (the app's label is not needed).
      const early = o.runImage === undefined ? undefined : loadRun(o.runImage);
      early?.catch(() => undefined); // awaited below, where its failure is reported
      const readApp = async () => {
        const app = await openTarget(target, 'write', tctx, reg);
        const before = await app.store.getManifest(app.key);
        const appImage = await imageOfManifest(app.store, app.key, before, { platform });
        const label = appImage.config.config?.Labels?.[LIFECYCLE_METADATA_LABEL];
        const runName = o.runImage ?? (label ? parseLifecycleMetadataLabel(label).runImage.image : undefined);
        if (!runName) throw new CairnError('INVALID_ARGUMENT', `${formatTarget(target)} records no run image name`, { hint: 'pass --run-image REF' });
        return { app, before, appImage, runName, runImage: await (early ?? loadRun(runName)) };
      };
      const { app, before, appImage, runName, runImage } = await readApp().catch(async (e: unknown) => {
        reading.abort(e); // the run image's read stops, and ends before the command does
        await early?.catch(() => undefined);
        throw e;
      });
      const result = rebaseImage({ app: appImage, runImage, runImageName: runName, force: Boolean(o.force) });
      const progress = o.json ? undefined : progressReporter(ctx.stderr, 'rebase');
      const written = await writeImage(result.image, app.store, app.key, { previous: before, ...(progress ? { progress: progress.sink } : {}) }).finally(() => progress?.end());
      await app.store.close();
      if (o.json) {
        ctx.stdout.write(JSON.stringify({ image: formatTarget(target), digest: written.digest, runImage: result.metadata.runImage, keptLayers: result.keptLayers, bytesWritten: written.bytesWritten, forced: result.forced }) + '\n');
        return;
      }
      for (const why of result.forced) ctx.stderr.write(`warning: forced: ${why}\n`);
      ctx.stdout.write(`Rebased ${formatTarget(target)} onto ${runName}\n  digest ${written.digest}; ${result.keptLayers} app layers kept as they were; ${written.blobsWritten} blobs written (${formatBytes(written.bytesWritten)})\n`);
    });
}
