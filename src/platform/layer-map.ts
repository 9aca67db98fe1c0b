/**
 * Who owns each layer of an image built by a buildpacks lifecycle, from its `io.buildpacks.lifecycle.metadata`
 * label (layer identity is the diffID, digest §5.3): the run image's layers (up to `runImage.topLayer`), each
 * buildpack's launch layers, the SBOM layer, the app layers, the launcher, its config and the process types.
 */
import type { Image } from '../oci/image.js';
import { type LifecycleMetadata, parseLifecycleMetadataLabel } from '../lifecycle/labels/lifecycle-metadata.js';
import { LIFECYCLE_METADATA_LABEL } from '../lifecycle/labels/names.js';

export type LayerOwnerKind = 'base' | 'buildpack' | 'sbom' | 'app' | 'launcher' | 'config' | 'process-types' | 'unknown';

export interface MappedLayer {
  index: number;
  digest: string;
  diffID: string;
  size: number;
  kind: LayerOwnerKind;
  /** e.g. `cairn/node-engine:node`, `app`, `base`. */
  owner: string;
}

export function lifecycleMetadataOf(image: Image): LifecycleMetadata | undefined {
  const raw = image.config.config?.Labels?.[LIFECYCLE_METADATA_LABEL];
  return raw ? parseLifecycleMetadataLabel(raw) : undefined;
}

export function layerMap(image: Image): MappedLayer[] {
  const md = lifecycleMetadataOf(image);
  const owners = new Map<string, { kind: LayerOwnerKind; owner: string }>();
  if (md) {
    for (const bp of md.buildpacks) for (const [name, l] of Object.entries(bp.layers)) owners.set(l.sha, { kind: 'buildpack', owner: `${bp.key}:${name}` });
    md.app.forEach((a, i) => owners.set(a.sha, { kind: 'app', owner: md.app.length > 1 && i < md.app.length - 1 ? `app slice ${i + 1}` : 'app' }));
    if (md.sbom?.sha) owners.set(md.sbom.sha, { kind: 'sbom', owner: 'sbom' });
    owners.set(md.launcher.sha, { kind: 'launcher', owner: 'launcher' });
    owners.set(md.config.sha, { kind: 'config', owner: 'launcher config' });
    if (md.processTypes.sha) owners.set(md.processTypes.sha, { kind: 'process-types', owner: 'process types' });
  }
  // An image no lifecycle built is all base (e.g. a run image itself).
  const top = md ? image.layers.findIndex((l) => l.diffID === md.runImage.topLayer) : image.layers.length - 1;
  return image.layers.map((l, index) => {
    const o = index <= top ? { kind: 'base' as const, owner: 'base' } : owners.get(l.diffID) ?? { kind: 'unknown' as const, owner: '?' };
    return { index, digest: l.digest, diffID: l.diffID, size: l.size, ...o };
  });
}

export type LayerChange = 'shared' | 'replaced' | 'added' | 'removed';

export interface LayerDiff {
  change: LayerChange;
  owner: string;
  kind: LayerOwnerKind;
  a?: MappedLayer;
  b?: MappedLayer;
}

/**
 * Layer-by-layer comparison, matched by owner (a buildpack layer, the app, the base as a whole…): the same
 * diffID is shared, another diffID for the same owner is replaced, and owners on one side only are added or
 * removed. Base layers are matched by position within the base.
 */
export function diffImages(a: Image, b: Image): LayerDiff[] {
  const ma = layerMap(a);
  const mb = layerMap(b);
  const key = (l: MappedLayer, all: MappedLayer[]) => (l.kind === 'base' ? `base#${all.filter((x) => x.kind === 'base').indexOf(l)}` : l.owner);
  const byKeyA = new Map(ma.map((l) => [key(l, ma), l]));
  const byKeyB = new Map(mb.map((l) => [key(l, mb), l]));
  const out: LayerDiff[] = [];
  for (const l of mb) {
    const other = byKeyA.get(key(l, mb));
    if (!other) out.push({ change: 'added', owner: l.owner, kind: l.kind, b: l });
    else out.push({ change: other.diffID === l.diffID ? 'shared' : 'replaced', owner: l.owner, kind: l.kind, a: other, b: l });
  }
  for (const l of ma) if (!byKeyB.has(key(l, ma))) out.push({ change: 'removed', owner: l.owner, kind: l.kind, a: l });
  return out;
}
