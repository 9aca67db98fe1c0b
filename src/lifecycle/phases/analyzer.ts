/**
 * The analyze phase (digest §4.1 analyzer): reads the previous app image (when there is one) and the run
 * image, and produces analyzed.toml: the previous image's digest and its `io.buildpacks.lifecycle.metadata`,
 * and the run image's digest reference, name and target (from its config and `io.buildpacks.base.*` labels).
 * A previous image that does not exist is fine; a run image that does not exist is an error (exit 32).
 */
import { isCairnError } from '../../oci/errors.js';
import { type Image, loadImage } from '../../oci/image.js';
import type { Store } from '../../oci/store/store.js';
import { ExitCode, LifecycleError } from '../exit-codes.js';
import type { AnalyzedToml } from '../files/analyzed-toml.js';
import { emptyLifecycleMetadata, type LifecycleMetadata, parseLifecycleMetadataLabel } from '../labels/lifecycle-metadata.js';
import { LIFECYCLE_METADATA_LABEL } from '../labels/names.js';
import type { TargetData } from '../target.js';

export interface ImageSource {
  store: Store;
  /** Tag or digest in the store. */
  ref: string;
  /** How the image is named in metadata (e.g. `127.0.0.1:5000/run:v1`, `cairn/run-tiny`). */
  name: string;
}

export interface AnalyzeInput {
  previous?: ImageSource;
  runImage: ImageSource;
  platform: { os: string; architecture: string; variant?: string };
  warn: (message: string) => void;
}

export interface AnalyzeResult {
  analyzed: AnalyzedToml;
  previousImage: Image | undefined;
  runImage: Image;
}

export async function analyze(input: AnalyzeInput): Promise<AnalyzeResult> {
  let previousImage: Image | undefined;
  let metadata: LifecycleMetadata = emptyLifecycleMetadata();
  if (input.previous) {
    try {
      previousImage = await loadImage(input.previous.store, input.previous.ref, { platform: input.platform });
    } catch (e) {
      if (!isCairnError(e, 'MANIFEST_NOT_FOUND')) throw phaseError(`cannot read the previous image ${input.previous.name}`, e);
    }
    const label = previousImage?.config.config?.Labels?.[LIFECYCLE_METADATA_LABEL];
    if (label) {
      try {
        metadata = parseLifecycleMetadataLabel(label);
      } catch (e) {
        input.warn(`the previous image ${input.previous.name} has an unreadable ${LIFECYCLE_METADATA_LABEL} label; building without it (${(e as Error).message})`);
        previousImage = undefined;
      }
    } else if (previousImage) {
      input.warn(`the previous image ${input.previous.name} was not built by a buildpacks lifecycle; its layers will not be reused`);
      previousImage = undefined;
    }
  }
  let runImage: Image;
  try {
    runImage = await loadImage(input.runImage.store, input.runImage.ref, { platform: input.platform });
  } catch (e) {
    throw phaseError(`cannot read the run image ${input.runImage.name}`, e, 'check the run image reference, or create the stack with `cairn stack create`');
  }
  const analyzed: AnalyzedToml = {
    ...(previousImage ? { image: { reference: `${input.previous!.name}@${previousImage.digest}` } } : {}),
    runImage: { reference: `${input.runImage.name}@${runImage.digest}`, image: input.runImage.name, extend: false, target: targetOf(runImage) },
    metadata,
  };
  return { analyzed, previousImage, runImage };
}

/** The target of a base image: os/arch/variant from its config, distro and id from `io.buildpacks.base.*`. */
export function targetOf(image: Image): TargetData {
  const labels = image.config.config?.Labels ?? {};
  const name = labels['io.buildpacks.base.distro.name'];
  const version = labels['io.buildpacks.base.distro.version'];
  return {
    ...(labels['io.buildpacks.base.id'] ? { id: labels['io.buildpacks.base.id'] } : {}),
    os: image.config.os,
    arch: image.config.architecture,
    ...(image.config.variant ? { variant: image.config.variant } : {}),
    ...(name && version ? { distro: { name, version } } : {}),
  };
}

function phaseError(message: string, cause: unknown, hint?: string): LifecycleError {
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new LifecycleError('LIFECYCLE_FAILED', message + why, {
    phase: 'analyze', exitCode: ExitCode.analyzeError, cause,
    hint: hint ?? (isCairnError(cause) ? cause.hint : undefined),
  });
}
