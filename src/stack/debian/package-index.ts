/**
 * The binary package index of a set of suites (Debian wiki "DebianRepository/Format" §A.2): for each
 * suite, `dists/<suite>/InRelease` is fetched and its signature verified, then
 * `<component>/binary-<arch>/Packages{.gz,.xz}` is fetched (by hash when the Release allows it) and checked
 * against the Release's SHA256 list before it is parsed. Indexes are cached by the sha256 of their
 * uncompressed text, so a warm run downloads only the InRelease files.
 *
 * The index keeps one candidate per package name: its highest version across all suites (the main suite,
 * -updates and -security), as apt does without pinning. A later suite wins only with a strictly higher
 * version.
 */
import { sha256 } from '../../oci/digest.js';
import { CairnError, isCairnError } from '../../oci/errors.js';
import type { ContentCache } from './cache.js';
import { parseStanza, type Stanza } from './deb822.js';
import { compressionOf, decompressBuffer } from './decompress.js';
import { type HttpFetch, httpGetBytes } from './http.js';
import type { Keyring } from './keyring.js';
import { parseRelations, type Alternatives, type Relation } from './relations.js';
import { type Release, verifyInRelease } from './release.js';
import { compareVersions, satisfiesVersion, type VersionOp } from './version.js';

/** One suite on one mirror, e.g. `{ suite: 'bookworm-security', mirror: 'http://deb.debian.org/debian-security' }`. */
export interface SuiteSource {
  suite: string;
  /** Mirror root URL (the folder holding `dists/` and `pool/`), without a trailing slash. */
  mirror: string;
}

/** What the lock records about a suite: enough to tell which snapshot a resolution came from. */
export interface SuiteSnapshot extends SuiteSource {
  /** The Release `Date`. */
  date: string;
  /** `<component>/binary-<arch>/Packages` → sha256 of its uncompressed text. */
  indexes: Record<string, string>;
}

/** One binary package as the index describes it. Relationship fields are parsed on first use. */
export class IndexedPackage {
  private parsed: Stanza | undefined;
  private rel = new Map<string, Alternatives[]>();

  constructor(
    readonly name: string,
    readonly version: string,
    readonly arch: string,
    readonly source: SuiteSource,
    private readonly text: string,
    /** Unversioned and versioned names this package provides (`Provides`). */
    readonly provides: readonly { name: string; version?: string }[],
    readonly essential: boolean,
  ) {}

  get stanza(): Stanza {
    this.parsed ??= parseStanza(this.text, `index entry ${this.name} ${this.version}`);
    return this.parsed;
  }

  field(name: string): string | undefined {
    return this.stanza.get(name);
  }

  /** Parsed relationship field (Depends, Pre-Depends, Conflicts, Breaks, …). */
  relations(field: string): Alternatives[] {
    let r = this.rel.get(field);
    if (!r) {
      r = parseRelations(this.field(field), `${field} of ${this.name} ${this.version}`);
      this.rel.set(field, r);
    }
    return r;
  }

  get filename(): string {
    return this.stanza.require('Filename', `index entry ${this.name} ${this.version}`);
  }

  get sha256(): string {
    const v = this.stanza.require('SHA256', `index entry ${this.name} ${this.version}`);
    if (!/^[0-9a-f]{64}$/.test(v)) throw new CairnError('INVALID_ARCHIVE', `index entry ${this.name} ${this.version} has a malformed SHA256 "${v}"`);
    return v;
  }

  get size(): number {
    const v = this.stanza.require('Size', `index entry ${this.name} ${this.version}`);
    if (!/^[0-9]+$/.test(v)) throw new CairnError('INVALID_ARCHIVE', `index entry ${this.name} ${this.version} has a malformed Size "${v}"`);
    return Number(v);
  }

  get priority(): string | undefined {
    return this.field('Priority');
  }
}

export class PackageIndex {
  private readonly byName = new Map<string, IndexedPackage>();
  private readonly providersOf = new Map<string, IndexedPackage[]>();

  constructor(
    readonly arch: string,
    readonly snapshots: readonly SuiteSnapshot[],
    packages: Iterable<IndexedPackage>,
  ) {
    for (const p of packages) {
      const prev = this.byName.get(p.name);
      if (!prev || compareVersions(p.version, prev.version) > 0) this.byName.set(p.name, p);
    }
    for (const p of [...this.byName.values()].sort((a, b) => cmp(a.name, b.name))) {
      for (const prov of p.provides) {
        const list = this.providersOf.get(prov.name) ?? [];
        list.push(p);
        this.providersOf.set(prov.name, list);
      }
    }
  }

  /** The candidate (highest version) of a real package, or undefined. */
  get(name: string): IndexedPackage | undefined {
    return this.byName.get(name);
  }

  /** Candidates providing `name` with a version that satisfies `constraint` (Policy §7.5), by name. */
  providers(name: string, constraint?: { op: VersionOp; version: string }): IndexedPackage[] {
    return (this.providersOf.get(name) ?? []).filter((p) =>
      p.provides.some((pr) => pr.name === name && (!constraint || (pr.version !== undefined && satisfiesVersion(pr.version, constraint.op, constraint.version)))),
    );
  }

  /** Whether a relation is satisfied by `p` itself (name, version) or by one of its Provides. */
  static satisfies(p: IndexedPackage, r: Relation): boolean {
    if (p.name === r.name) return !r.constraint || satisfiesVersion(p.version, r.constraint.op, r.constraint.version);
    return p.provides.some((pr) => pr.name === r.name && (!r.constraint || (pr.version !== undefined && satisfiesVersion(pr.version, r.constraint.op, r.constraint.version))));
  }

  /** Candidates with `Essential: yes`, by name. */
  essential(): IndexedPackage[] {
    return [...this.byName.values()].filter((p) => p.essential).sort((a, b) => cmp(a.name, b.name));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses a Packages file. Only Package, Version, Architecture, Provides and Essential are read eagerly;
 * the rest of each stanza is parsed when the resolver visits the package. Entries for other
 * architectures than `arch` and `all` are skipped.
 */
export function parsePackagesFile(text: string, source: SuiteSource, arch: string): IndexedPackage[] {
  const out: IndexedPackage[] = [];
  const what = `Packages of ${source.suite}`;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    // One stanza: from `pos` to the next empty line.
    let end = text.indexOf('\n\n', pos);
    if (end < 0) end = n;
    const start = pos;
    pos = end + 2;
    let name: string | undefined;
    let version: string | undefined;
    let pkgArch: string | undefined;
    let provides: string | undefined;
    let essential = false;
    let lineStart = start;
    let last = '';
    while (lineStart < end) {
      let lineEnd = text.indexOf('\n', lineStart);
      if (lineEnd < 0 || lineEnd > end) lineEnd = end;
      const c = text.charCodeAt(lineStart);
      if (c === 32 || c === 9) {
        if (last === 'provides') provides += ' ' + text.slice(lineStart, lineEnd).trim();
      } else {
        const colon = text.indexOf(':', lineStart);
        if (colon < 0 || colon > lineEnd) throw new CairnError('INVALID_ARCHIVE', `${what}: malformed line "${text.slice(lineStart, Math.min(lineEnd, lineStart + 60))}"`);
        const key = text.slice(lineStart, colon).toLowerCase();
        last = key;
        if (key === 'package') name = text.slice(colon + 1, lineEnd).trim();
        else if (key === 'version') version = text.slice(colon + 1, lineEnd).trim();
        else if (key === 'architecture') pkgArch = text.slice(colon + 1, lineEnd).trim();
        else if (key === 'provides') provides = text.slice(colon + 1, lineEnd).trim();
        else if (key === 'essential') essential = text.slice(colon + 1, lineEnd).trim().toLowerCase() === 'yes';
      }
      lineStart = lineEnd + 1;
    }
    if (start === end || text.slice(start, end).trim() === '') continue;
    if (!name || !version || !pkgArch) throw new CairnError('INVALID_ARCHIVE', `${what}: a paragraph lacks Package, Version or Architecture (near offset ${start})`);
    if (pkgArch !== arch && pkgArch !== 'all') continue;
    const prov = provides ? parseRelations(provides, `Provides of ${name} ${version}`).flat().map((r) => (r.constraint ? { name: r.name, version: r.constraint.version } : { name: r.name })) : [];
    out.push(new IndexedPackage(name, version, pkgArch, source, text.slice(start, end), prov, essential));
  }
  return out;
}

export interface LoadIndexOptions {
  sources: readonly SuiteSource[];
  arch: string;
  components: readonly string[];
  keyring: Keyring;
  cache: ContentCache;
  fetch: HttpFetch;
  now: Date;
  checkValidUntil?: boolean;
  warn?: (message: string) => void;
  signal?: AbortSignal;
}

/** Fetches, verifies and parses the indexes of all sources. */
export async function loadPackageIndex(opts: LoadIndexOptions): Promise<PackageIndex> {
  const perSource = await Promise.all(opts.sources.map((s) => loadSuite(s, opts)));
  return new PackageIndex(
    opts.arch,
    perSource.map((r) => r.snapshot),
    perSource.flatMap((r) => r.packages),
  );
}

async function loadSuite(source: SuiteSource, opts: LoadIndexOptions): Promise<{ snapshot: SuiteSnapshot; packages: IndexedPackage[] }> {
  const base = `${source.mirror}/dists/${source.suite}`;
  const inReleaseUrl = `${base}/InRelease`;
  const text = (await httpGetBytes(inReleaseUrl, httpOpts(opts))).toString('utf8');
  const release = await verifyInRelease(text, {
    keyring: opts.keyring,
    expectedSuite: source.suite,
    now: opts.now,
    ...(opts.checkValidUntil !== undefined ? { checkValidUntil: opts.checkValidUntil } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
    what: inReleaseUrl,
  });
  const indexes: Record<string, string> = {};
  const packages: IndexedPackage[] = [];
  for (const component of opts.components) {
    const rel = `${component}/binary-${opts.arch}/Packages`;
    const { text: pkgText, sha256 } = await fetchPackagesFile(base, rel, release, opts);
    indexes[rel] = sha256;
    packages.push(...parsePackagesFile(pkgText, source, opts.arch));
  }
  return { snapshot: { ...source, date: release.date, indexes }, packages };
}

/** Preference among the compressed forms: gzip decodes natively (about 6× faster than the wasm xz). */
const VARIANTS = ['.gz', '.xz', ''] as const;

async function fetchPackagesFile(base: string, rel: string, release: Release, opts: LoadIndexOptions): Promise<{ text: string; sha256: string }> {
  const plain = release.files.get(rel);
  if (plain) {
    const cached = await opts.cache.read(plain.sha256, plain.size);
    if (cached) return { text: cached.toString('utf8'), sha256: plain.sha256 };
  }
  const variant = VARIANTS.find((v) => release.files.has(rel + v));
  if (variant === undefined) {
    throw new CairnError('NOT_FOUND', `${base}/InRelease lists no ${rel} index`, {
      hint: 'check the component and architecture: the suite may not carry them',
    });
  }
  const file = release.files.get(rel + variant)!;
  const compressed = await fetchByHash(base, rel + variant, file.sha256, release.acquireByHash, opts);
  const data = await decompressBuffer(compressed, compressionOf(rel + variant), `${base}/${rel}${variant}`);
  if (plain) {
    if (data.length !== plain.size) throw mismatch(`${base}/${rel}`, 'size', `${plain.size}`, `${data.length}`);
    await opts.cache.put(plain.sha256, data, `${base}/${rel}`);
    return { text: data.toString('utf8'), sha256: plain.sha256 };
  }
  return { text: data.toString('utf8'), sha256: sha256(data).slice('sha256:'.length) };
}

/** Downloads `rel` (from by-hash/ when offered, else its plain path) and checks it against the Release. */
async function fetchByHash(base: string, rel: string, hex: string, byHash: boolean, opts: LoadIndexOptions): Promise<Buffer> {
  const dir = rel.slice(0, rel.lastIndexOf('/'));
  const urls = byHash ? [`${base}/${dir}/by-hash/SHA256/${hex}`, `${base}/${rel}`] : [`${base}/${rel}`];
  let lastError: unknown;
  for (const url of urls) {
    let data: Buffer;
    try {
      data = await httpGetBytes(url, httpOpts(opts));
    } catch (e) {
      if (isCairnError(e, 'NOT_FOUND')) {
        lastError = e;
        continue;
      }
      throw e;
    }
    const got = sha256(data).slice('sha256:'.length);
    if (got !== hex) throw mismatch(url, 'sha256', hex, got);
    return data;
  }
  throw lastError;
}

function mismatch(url: string, what: string, expected: string, got: string): CairnError {
  return new CairnError('DIGEST_MISMATCH', `${url}: ${what} ${got} does not match ${expected} from the signed Release file`, {
    hint: 'the mirror is inconsistent (caught mid-update?) or the file was altered; try again later or use another mirror',
  });
}

function httpOpts(opts: LoadIndexOptions): { fetch: HttpFetch; signal?: AbortSignal } {
  return opts.signal ? { fetch: opts.fetch, signal: opts.signal } : { fetch: opts.fetch };
}
