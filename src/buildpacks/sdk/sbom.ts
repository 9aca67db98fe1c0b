/**
 * Deterministic SBOMs for a layer, in CycloneDX 1.5 JSON and SPDX 2.3 JSON (digest §2.9).
 *
 * Same components in, same bytes out: components are de-duplicated and sorted, keys are written in a fixed
 * order, there is no timestamp in CycloneDX, and the CycloneDX serial number and the SPDX namespace are
 * derived from the content (a name-based UUID over the components). SPDX requires a creation time: it is
 * `SOURCE_DATE_EPOCH` when the caller passes one, else 1980-01-01T00:00:01Z, the date cairn gives reproducible
 * images.
 *
 * Hand-written rather than @cyclonedx/cyclonedx-library: the buildpacks may bundle only semver and
 * smol-toml, and these two fixed shapes need a few dozen lines, not a model library.
 */
import { createHash } from 'node:crypto';

export interface SbomHash {
  algorithm: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** Hex. */
  hex: string;
}

export interface SbomComponent {
  name: string;
  version: string;
  /** Package URL, e.g. `pkg:npm/%40scope/name@1.2.3`. */
  purl?: string;
  type?: 'library' | 'application' | 'framework';
  /** Declared license: an SPDX expression when it is one, else free text. */
  license?: string;
  hashes?: SbomHash[];
  /** Where it was downloaded from. */
  downloadUrl?: string;
}

export interface SbomSubject {
  /** What the SBOM describes, e.g. `cairn/node-engine:node`. */
  name: string;
  /** The tool that wrote it. */
  tool: { name: string; version: string };
  /** ISO 8601 creation time for SPDX (see the module comment). */
  created?: string;
}

export const DEFAULT_SBOM_CREATED = '1980-01-01T00:00:01Z';

/** The creation time for SPDX from `SOURCE_DATE_EPOCH` (seconds), else the fixed default. */
export function sbomCreated(sourceDateEpoch: string | undefined): string {
  const s = Number(sourceDateEpoch);
  if (sourceDateEpoch && Number.isInteger(s) && s >= 0) return new Date(s * 1000).toISOString().replace(/\.000Z$/, 'Z');
  return DEFAULT_SBOM_CREATED;
}

function keyOf(c: SbomComponent): string {
  return c.purl ?? `${c.name}@${c.version}`;
}

/** De-duplicated (by purl, else name@version) and sorted components; hashes sorted. */
export function normaliseComponents(components: readonly SbomComponent[]): SbomComponent[] {
  const m = new Map<string, SbomComponent>();
  for (const c of components) if (!m.has(keyOf(c))) m.set(keyOf(c), c);
  return [...m.values()]
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0))
    .map((c) => ({ ...c, hashes: [...(c.hashes ?? [])].sort((x, y) => (x.algorithm < y.algorithm ? -1 : 1)) }));
}

/** A name-based (version 5 layout) UUID from sha256 of `text`. */
export function contentUuid(text: string): string {
  const h = createHash('sha256').update(text).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const OPERATORS = new Set(['AND', 'OR', 'WITH']);
const SPDX_ID = /^(LicenseRef-[A-Za-z0-9.-]+|[A-Za-z0-9][A-Za-z0-9.-]*\+?)$/;

/** Whether `s` reads as an SPDX license expression: ids joined by AND/OR/WITH, with balanced parentheses. */
export function isSpdxExpression(s: string): boolean {
  const tokens = s.replace(/([()])/g, ' $1 ').trim().split(/\s+/).filter(Boolean);
  let operand = true;
  let depth = 0;
  for (const t of tokens) {
    if (operand) {
      if (t === '(') depth++;
      else if (!OPERATORS.has(t) && SPDX_ID.test(t) && t !== 'UNLICENSED') operand = false;
      else return false;
    } else if (t === ')') {
      if (--depth < 0) return false;
    } else if (OPERATORS.has(t)) {
      operand = true;
    } else {
      return false;
    }
  }
  return tokens.length > 0 && !operand && depth === 0;
}

/** CycloneDX 1.5 JSON. */
export function cycloneDx(subject: SbomSubject, components: readonly SbomComponent[]): string {
  const list = normaliseComponents(components);
  const body = list.map((c) => ({
    type: c.type ?? 'library',
    'bom-ref': keyOf(c),
    name: c.name,
    version: c.version,
    ...(c.hashes?.length ? { hashes: c.hashes.map((h) => ({ alg: h.algorithm, content: h.hex })) } : {}),
    ...(c.license ? { licenses: isSpdxExpression(c.license) ? [{ expression: c.license }] : [{ license: { name: c.license } }] } : {}),
    ...(c.purl ? { purl: c.purl } : {}),
    ...(c.downloadUrl ? { externalReferences: [{ type: 'distribution', url: c.downloadUrl }] } : {}),
  }));
  const serial = `urn:uuid:${contentUuid(JSON.stringify([subject.name, body]))}`;
  const doc = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: serial,
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: subject.tool.name, version: subject.tool.version }] },
      component: { type: 'application', 'bom-ref': subject.name, name: subject.name },
    },
    components: body,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function spdxId(c: SbomComponent): string {
  return `SPDXRef-Package-${createHash('sha256').update(keyOf(c)).digest('hex').slice(0, 16)}`;
}

const SPDX_ALG = { 'SHA-1': 'SHA1', 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512' } as const;

/** SPDX 2.3 JSON. */
export function spdx(subject: SbomSubject, components: readonly SbomComponent[]): string {
  const list = normaliseComponents(components);
  const packages = list.map((c) => ({
    SPDXID: spdxId(c),
    name: c.name,
    versionInfo: c.version,
    downloadLocation: c.downloadUrl ?? 'NOASSERTION',
    filesAnalyzed: false,
    ...(c.hashes?.length ? { checksums: c.hashes.map((h) => ({ algorithm: SPDX_ALG[h.algorithm], checksumValue: h.hex })) } : {}),
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: c.license && isSpdxExpression(c.license) ? c.license : 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    ...(c.purl ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: c.purl }] } : {}),
  }));
  const uuid = contentUuid(JSON.stringify([subject.name, packages]));
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: subject.name,
    documentNamespace: `https://spdx.org/spdxdocs/${subject.name.replace(/[^A-Za-z0-9.-]+/g, '-')}-${uuid}`,
    creationInfo: { created: subject.created ?? DEFAULT_SBOM_CREATED, creators: [`Tool: ${subject.tool.name}-${subject.tool.version}`] },
    packages,
    relationships: packages.map((p) => ({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: p.SPDXID })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** `pkg:npm/<name>@<version>` with the scope's `@` escaped, as the purl spec says. */
export function npmPurl(name: string, version: string): string {
  const enc = name.split('/').map((p) => encodeURIComponent(p)).join('/');
  return `pkg:npm/${enc}@${encodeURIComponent(version)}`;
}

/** SRI integrity (`sha512-…`) as SBOM hashes. */
export function hashesFromIntegrity(integrity: string | undefined): SbomHash[] {
  if (!integrity) return [];
  const out: SbomHash[] = [];
  for (const part of integrity.trim().split(/\s+/)) {
    const m = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/.exec(part);
    if (m) out.push({ algorithm: `SHA-${m[1]!.slice(3)}` as SbomHash['algorithm'], hex: Buffer.from(m[2]!, 'base64').toString('hex') });
  }
  return out;
}
