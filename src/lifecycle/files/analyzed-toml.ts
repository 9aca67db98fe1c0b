/**
 * analyzed.toml (digest §4.2, platform spec "analyzed.toml"): written by the analyzer, updated by the detector
 * and restorer. `[metadata]` is the TOML form of the previous image's `io.buildpacks.lifecycle.metadata`.
 * The target variant is written as `variant` (spec) and read as `variant` or `arch-variant` (reference).
 */
import {
  emptyLifecycleMetadata,
  lifecycleMetadataToToml,
  readLifecycleMetadataToml,
  type LifecycleMetadata,
} from '../labels/lifecycle-metadata.js';
import type { TargetData } from '../target.js';
import { Fields } from './fields.js';
import { readTargetData, targetDataToToml } from './targets.js';
import { parseToml, stringifyToml } from './toml.js';

export interface ImageIdentifier {
  /** Digest reference, daemon image ID or OCI layout path. */
  reference: string;
}

export interface AnalyzedRunImage {
  reference: string;
  /** Name given by the platform or an extension. */
  image?: string;
  /** The extender must run with `-kind run`. */
  extend: boolean;
  target?: TargetData;
}

export interface AnalyzedToml {
  /** The previous image, when it exists. */
  image?: ImageIdentifier;
  /** Only with build-image extension. */
  buildImage?: ImageIdentifier & { extend?: boolean };
  runImage?: AnalyzedRunImage;
  metadata: LifecycleMetadata;
}

const HINT = 'analyzed.toml is written by the analyzer; re-run the analyze phase';

export function parseAnalyzedToml(text: string, file = 'analyzed.toml'): AnalyzedToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  const image = root.table('image');
  const build = root.table('build-image');
  const run = root.table('run-image');
  const target = run?.table('target');
  const md = root.table('metadata');
  return {
    image: image ? { reference: image.string('reference') ?? '' } : undefined,
    buildImage: build ? { reference: build.string('reference') ?? '', extend: build.boolean('extend') } : undefined,
    runImage: run
      ? {
          reference: run.string('reference') ?? '',
          image: run.string('image') || undefined,
          extend: run.boolean('extend') ?? false,
          target: target ? readTargetData(target) : undefined,
        }
      : undefined,
    metadata: md ? readLifecycleMetadataToml(md) : emptyLifecycleMetadata(),
  };
}

export function serializeAnalyzedToml(a: AnalyzedToml): string {
  return stringifyToml({
    image: a.image ? { reference: a.image.reference } : undefined,
    'build-image': a.buildImage ? { reference: a.buildImage.reference, extend: a.buildImage.extend || undefined } : undefined,
    'run-image': a.runImage
      ? {
          reference: a.runImage.reference,
          image: a.runImage.image || undefined,
          extend: a.runImage.extend || undefined,
          target: a.runImage.target ? targetDataToToml(a.runImage.target) : undefined,
        }
      : undefined,
    metadata: lifecycleMetadataToToml(a.metadata),
  });
}

/** The run image target, or an all-wildcard one when analyzed.toml has none. */
export function runImageTarget(a: AnalyzedToml): TargetData {
  return a.runImage?.target ?? { os: '', arch: '' };
}
