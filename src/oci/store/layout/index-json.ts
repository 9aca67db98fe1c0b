/**
 * The `index.json` of an OCI layout (image-spec image-layout.md "index.json file"): an image index whose
 * entries name images through the `org.opencontainers.image.ref.name` annotation (annotations.md). cairn
 * keeps one ref name per entry, so a manifest with several tags has several entries, as skopeo writes them.
 * Entries and fields cairn does not touch are kept as they are, in order.
 */
import { CairnError } from '../../errors.js';
import { MediaType } from '../../media-types.js';
import { type Descriptor, type Index, REF_NAME_ANNOTATION } from '../../spec.js';
import { manifestRefs } from './manifest-refs.js';

/** `ref` grammar of annotations.md for org.opencontainers.image.ref.name. */
const COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REF_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);

/**
 * Whether a reference given to getManifest is a digest rather than a tag: it starts with a digest
 * algorithm (tags such as `myapp:<git sha>` stay tags).
 */
export function isDigestRef(ref: string): boolean {
  return /^sha(?:256|384|512):/.test(ref);
}

/** Throws INVALID_ARGUMENT unless `tag` is a valid ref name that cannot be mistaken for a digest. */
export function checkRefName(tag: string): void {
  if (!REF_NAME.test(tag) || isDigestRef(tag)) {
    throw new CairnError('INVALID_ARGUMENT', `invalid tag "${tag}"`, {
      hint: 'a tag is letters and digits joined by - . _ : @ + or /, e.g. v1.2 or myapp:latest, and is not a digest',
    });
  }
}

/** An empty layout index. */
export function emptyIndex(): Index {
  return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
}

/** Parses index.json bytes; throws STORE_CORRUPT naming the layout when they are not an image index. */
export function parseLayoutIndex(bytes: Buffer, what: string): Index {
  try {
    manifestRefs(MediaType.OciIndex, bytes, `${what}/index.json`);
  } catch (e) {
    throw new CairnError('STORE_CORRUPT', `${what}/index.json is not a valid image index`, {
      cause: e,
      hint: 'the layout was damaged; restore index.json or recreate the layout',
    });
  }
  return JSON.parse(bytes.toString('utf8')) as Index;
}

export function serializeLayoutIndex(index: Index): Buffer {
  return Buffer.from(JSON.stringify(index));
}

function refNameOf(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION];
}

/** The entry named `tag`, or undefined (the last one, should a foreign tool have written several). */
export function findTag(index: Index, tag: string): Descriptor | undefined {
  return index.manifests.findLast((d) => refNameOf(d) === tag);
}

/** Any entry for `digest`, for its media type. */
export function findDigest(index: Index, digest: string): Descriptor | undefined {
  return index.manifests.find((d) => d.digest === digest);
}

/** The ref names of the index, unique and sorted. */
export function tagsOf(index: Index): string[] {
  const tags = new Set<string>();
  for (const d of index.manifests) {
    const t = refNameOf(d);
    if (t !== undefined) tags.add(t);
  }
  return [...tags].sort();
}

/**
 * The index after storing manifest `desc` (whose child manifests are `children`), or `index` itself when
 * nothing changes:
 * - with `tag`: entries with that ref name, and an unnamed entry for `desc`, give way to one new last entry;
 * - without: an unnamed entry is added unless `desc` already has an entry;
 * - either way, unnamed entries of `children` go: they are reachable through `desc` now.
 */
export function withManifest(index: Index, desc: Descriptor, tag: string | undefined, children: readonly string[]): Index {
  const kids = new Set(children);
  let manifests = index.manifests.filter((d) => refNameOf(d) !== undefined || !kids.has(d.digest));
  if (tag !== undefined) {
    if (findTag(index, tag)?.digest !== desc.digest) {
      const entry: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size, annotations: { [REF_NAME_ANNOTATION]: tag } };
      manifests = [...manifests.filter((d) => refNameOf(d) !== tag && !(refNameOf(d) === undefined && d.digest === desc.digest)), entry];
    }
  } else if (!manifests.some((d) => d.digest === desc.digest)) {
    manifests = [...manifests, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }];
  }
  return manifests.length === index.manifests.length && manifests.every((d, i) => d === index.manifests[i]) ? index : { ...index, manifests };
}

/** A new index without the entries named `tag`, or undefined when there were none. */
export function withoutTag(index: Index, tag: string): Index | undefined {
  const manifests = index.manifests.filter((d) => refNameOf(d) !== tag);
  return manifests.length === index.manifests.length ? undefined : { ...index, manifests };
}
