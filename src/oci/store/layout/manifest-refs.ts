/**
 * What a manifest or index refers to (image-spec manifest.md "config"/"layers", image-index.md
 * "manifests"), for the stores that check references before storing (layout, memory) and for layout GC.
 */
import { parseDigest } from '../../digest.js';
import { CairnError } from '../../errors.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../json-depth.js';
import { isIndexType, isManifestType, MediaType } from '../../media-types.js';
import type { Descriptor } from '../../spec.js';

/** Manifests and configs larger than this are refused: a hostile source cannot exhaust memory. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export interface ManifestRefs {
  /** Whether the document is an index (its `children` are manifests) or an image manifest. */
  kind: 'manifest' | 'index';
  /** Config and layers of a manifest. */
  blobs: Descriptor[];
  /** Entries of an index. */
  children: Descriptor[];
  /** `subject` (image-spec manifest.md "subject"): a referrer's target, which need not be present. */
  subject: Descriptor | undefined;
}

/**
 * Parses manifest or index bytes declared as `mediaType` and returns what they reference. Throws
 * UNSUPPORTED_MEDIA_TYPE for other media types and INVALID_MANIFEST when the bytes are not a well-formed
 * document of that type (including a `mediaType` field that contradicts the declared one).
 */
export function manifestRefs(mediaType: string, bytes: Buffer, what: string): ManifestRefs {
  if (!isManifestType(mediaType) && !isIndexType(mediaType)) {
    throw new CairnError('UNSUPPORTED_MEDIA_TYPE', `${what}: ${mediaType} is not a manifest or index media type`, {
      hint: `cairn stores ${MediaType.OciManifest}, ${MediaType.OciIndex} and their Docker schema 2 equivalents`,
    });
  }
  const doc = parseObject(bytes, what);
  if (doc.schemaVersion !== 2) throw invalid(what, 'schemaVersion is not 2');
  if (doc.mediaType !== undefined && doc.mediaType !== mediaType) throw invalid(what, `its mediaType field is ${String(doc.mediaType)}, not ${mediaType}`);
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, what, 'subject');
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid(what, 'an index has no "manifests" array');
    return { kind: 'index', blobs: [], children: doc.manifests.map((d, i) => descriptor(d, what, `manifests[${i}]`)), subject };
  }
  if (!Array.isArray(doc.layers)) throw invalid(what, 'a manifest has no "layers" array');
  const blobs = [descriptor(doc.config, what, 'config'), ...doc.layers.map((d, i) => descriptor(d, what, `layers[${i}]`))];
  return { kind: 'manifest', blobs, children: [], subject };
}

/**
 * The media type of stored manifest bytes: their `mediaType` field, else `hint` (e.g. from the descriptor
 * that pointed at them), else the shape (`manifests` → OCI index, `config` → OCI manifest).
 */
export function sniffManifestType(bytes: Buffer, hint: string | undefined, what: string): string {
  const doc = parseObject(bytes, what);
  if (typeof doc.mediaType === 'string') return doc.mediaType;
  if (hint) return hint;
  if (Array.isArray(doc.manifests)) return MediaType.OciIndex;
  if (doc.config !== undefined) return MediaType.OciManifest;
  throw invalid(what, 'it is neither a manifest nor an index');
}

function parseObject(bytes: Buffer, what: string): Record<string, unknown> {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(what, `it is ${bytes.length} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new CairnError('INVALID_MANIFEST', `${what} is not valid JSON`, { cause: e, hint: 'the manifest is corrupt' });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(what, 'it is not a JSON object');
  if (nestedDeeperThan(doc, MAX_JSON_DEPTH)) throw invalid(what, `it is nested deeper than ${MAX_JSON_DEPTH} levels`);
  return doc as Record<string, unknown>;
}

function descriptor(d: unknown, what: string, field: string): Descriptor {
  if (typeof d !== 'object' || d === null) throw invalid(what, `${field} is not a descriptor`);
  const o = d as Record<string, unknown>;
  if (typeof o.mediaType !== 'string' || typeof o.digest !== 'string' || typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw invalid(what, `${field} lacks a mediaType, digest or size`);
  }
  try {
    parseDigest(o.digest);
  } catch (e) {
    throw new CairnError('INVALID_MANIFEST', `${what}: ${field} has an invalid digest "${o.digest}"`, { cause: e, hint: 'the manifest is corrupt' });
  }
  return o as unknown as Descriptor;
}

function invalid(what: string, why: string): CairnError {
  return new CairnError('INVALID_MANIFEST', `${what} is not a valid manifest: ${why}`, { hint: 'the manifest is corrupt or of a kind cairn does not know' });
}
