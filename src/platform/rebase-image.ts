/**
 * Rebase (digest §8): put an app image's layers on a new run image. The layers above the run image's top
 * layer (`runImage.topLayer` in `io.buildpacks.lifecycle.metadata`) are kept as they are — no app layer is
 * read, written or uploaded; only the new config and manifest are new. A newer version of the same run image
 * (same repository, same os/arch, same distro name and major version) needs no `force`; anything else does.
 */
import { CairnError } from '../oci/errors.js';
import { type Image } from '../oci/image.js';
import { rebase, setLabels } from '../oci/mutate.js';
import { parseImageName } from '../oci/reference.js';
import { type LifecycleMetadata, lifecycleMetadataLabel, parseLifecycleMetadataLabel } from '../lifecycle/labels/lifecycle-metadata.js';
import { LIFECYCLE_METADATA_LABEL, REBASABLE_LABEL } from '../lifecycle/labels/names.js';

export interface RebaseInput {
  app: Image;
  /** The new run image and how to record it (`name` as the user wrote it; the digest is appended). */
  runImage: Image;
  runImageName: string;
  force?: boolean;
}

export interface RebaseResult {
  image: Image;
  metadata: LifecycleMetadata;
  /** App layers kept (the same blobs). */
  keptLayers: number;
  /** Why `force` was needed, when it was used. */
  forced: string[];
}

export function rebaseImage(input: RebaseInput): RebaseResult {
  const labels = input.app.config.config?.Labels ?? {};
  const raw = labels[LIFECYCLE_METADATA_LABEL];
  if (!raw) {
    throw new CairnError('INVALID_ARGUMENT', `the image was not built by a buildpacks lifecycle (no ${LIFECYCLE_METADATA_LABEL} label)`, {
      hint: 'only images built with cairn build or pack build can be rebased',
    });
  }
  const md = parseLifecycleMetadataLabel(raw);
  const reasons = incompatibilities(input, md, labels);
  if (reasons.length > 0 && !input.force) {
    throw new CairnError('INVALID_ARGUMENT', `cannot rebase onto ${input.runImageName}: ${reasons.join('; ')}`, { hint: 'pass --force to rebase anyway' });
  }
  const rebased = rebase(input.app, md.runImage.topLayer, input.runImage);
  const keptLayers = rebased.layers.length - input.runImage.layers.length;
  const newMd: LifecycleMetadata = {
    ...md,
    runImage: {
      ...md.runImage,
      topLayer: input.runImage.layers.at(-1)?.diffID ?? '',
      reference: `${input.runImageName}@${input.runImage.digest}`,
      ...(reasons.length > 0 ? { image: input.runImageName, mirrors: [] } : {}),
    },
  };
  const baseLabels = Object.fromEntries(Object.entries(input.runImage.config.config?.Labels ?? {}).filter(([k]) => k.startsWith('io.buildpacks.base.') || k.startsWith('io.buildpacks.stack.')));
  const image = setLabels(rebased, { ...baseLabels, [LIFECYCLE_METADATA_LABEL]: lifecycleMetadataLabel(newMd) });
  return { image, metadata: newMd, keptLayers, forced: input.force ? reasons : [] };
}

function incompatibilities(input: RebaseInput, md: LifecycleMetadata, appLabels: Record<string, string>): string[] {
  const reasons: string[] = [];
  if (appLabels[REBASABLE_LABEL] === 'false') reasons.push('the image is marked io.buildpacks.rebasable=false');
  const app = input.app.config;
  const run = input.runImage.config;
  if (app.os !== run.os || app.architecture !== run.architecture) reasons.push(`the run image is ${run.os}/${run.architecture}, the app ${app.os}/${app.architecture}`);
  const runLabels = run.config?.Labels ?? {};
  const oldDistro = appLabels['io.buildpacks.base.distro.name'];
  const newDistro = runLabels['io.buildpacks.base.distro.name'];
  if (oldDistro && newDistro && oldDistro !== newDistro) reasons.push(`the distro changes from ${oldDistro} to ${newDistro}`);
  const major = (v: string | undefined) => v?.split('.')[0];
  const oldVersion = appLabels['io.buildpacks.base.distro.version'];
  const newVersion = runLabels['io.buildpacks.base.distro.version'];
  if (oldVersion && newVersion && major(oldVersion) !== major(newVersion)) reasons.push(`the distro version changes from ${oldVersion} to ${newVersion}`);
  const recorded = md.runImage.image ?? md.stack?.runImage.image;
  if (recorded && repositoryOf(recorded) !== repositoryOf(input.runImageName) && !(md.runImage.mirrors ?? []).some((m) => repositoryOf(m) === repositoryOf(input.runImageName))) {
    reasons.push(`${input.runImageName} is not the run image the app was built on (${recorded})`);
  }
  return reasons;
}

/** `registry/repository` of a reference, ignoring tag and digest (cairn transports: the path and name). */
function repositoryOf(ref: string): string {
  try {
    const n = parseImageName(ref);
    return `${n.registry ?? ''}/${n.repository}`;
  } catch {
    return ref.replace(/@sha256:[0-9a-f]{64}$/, '').replace(/:[^:/]+$/, '');
  }
}
