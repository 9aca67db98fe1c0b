/**
 * A Store over one repository of a registry (OCI distribution-spec v1.1, and Docker Registry HTTP API v2).
 * No I/O happens until the first call. Concurrency is the caller's: copy reads `maxParallel`.
 */
import { Readable } from 'node:stream';
import type { CredentialSource } from '../../auth/credentials.js';
import { type Digest, isDigest, parseDigest, sha256, verifyBytes } from '../../digest.js';
import { CairnError } from '../../errors.js';
import { MANIFEST_ACCEPT, MediaType } from '../../media-types.js';
import { manifestRefs } from '../layout/manifest-refs.js';
import type { BlobDescriptor, ManifestData, PutManifestOptions, RegistryLocation, Store, TransferOptions } from '../store.js';
import { RegistryClient } from './client.js';
import { downloadBlob } from './download.js';
import { RegistryError } from './errors.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { uploadBlob } from './upload.js';

export interface RegistryStoreOptions {
  /** Registry host as written in references: `127.0.0.1:5000`, `ghcr.io`, `docker.io`. */
  host: string;
  /** Repository path, e.g. `library/node`. */
  repository: string;
  /** Plain HTTP instead of HTTPS (pack's `--insecure-registry HOST:PORT`). */
  insecure?: boolean;
  /** Extra trusted CA certificates (PEM), in addition to the system's. */
  caCerts?: string[];
  /** Files of extra trusted CA certificates, read when the first TLS connection is made (NODE_EXTRA_CA_CERTS). */
  caFiles?: string[];
  credentials?: CredentialSource;
  userAgent?: string;
  /** How many blobs a caller should transfer at once (read by copy). Default 4. */
  maxParallel?: number;
  retry?: Partial<RetryPolicy>;
  /** Longest wait for response headers and longest silence mid-body before the connection is cut. Default 60 s. */
  fetchTimeoutMs?: number;
  /** Size of the PATCH chunks of blobs over `monolithicMax`. Default 16 MiB. */
  chunkSize?: number;
  /** Blobs up to this size are streamed in one request (default 128 MiB); larger ones go in chunks. */
  monolithicMax?: number;
}

/** Manifests larger than this are refused (distribution-spec: registries should accept at least 4 MiB). */
const MAX_MANIFEST_BYTES = 4 << 20;

/** The host serving the registry API for a host as written in references. */
export function registryApiHost(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' ? 'registry-1.docker.io' : host;
}

/** Two hosts name the same registry (so blobs can be mounted between their repositories). */
function sameRegistry(a: string, b: string): boolean {
  return registryApiHost(a) === registryApiHost(b);
}

export function openRegistryStore(opts: RegistryStoreOptions): RegistryStore {
  return new RegistryStore(opts);
}

/** Times a manifest is sent while it arrives changed (see sendManifest). */
const MANIFEST_PUT_ATTEMPTS = 8;

/** What sendManifest left in the registry. */
interface SentManifest {
  /** The digest the registry reported storing last. */
  stored: string;
  sends: number;
  /** The registry stored the same other bytes twice: it rewrites manifests. */
  rewritten: boolean;
  /** The error that ended the sends after the registry had stored other bytes. */
  error?: unknown;
}

export class RegistryStore implements Store {
  readonly name: string;
  readonly location: RegistryLocation;
  readonly maxParallel: number;
  private readonly client: RegistryClient;
  private readonly chunkSize: number;
  private readonly monolithicMax: number;
  private readonly repo: string;

  constructor(opts: RegistryStoreOptions) {
    this.location = { host: opts.host, repository: opts.repository };
    this.name = `${opts.host}/${opts.repository}`;
    this.repo = opts.repository;
    this.maxParallel = opts.maxParallel ?? 4;
    this.chunkSize = opts.chunkSize ?? 16 << 20;
    this.monolithicMax = opts.monolithicMax ?? opts.chunkSize ?? 128 << 20;
    this.client = new RegistryClient({
      host: opts.host,
      apiHost: registryApiHost(opts.host),
      insecure: opts.insecure ?? false,
      caCerts: opts.caCerts ?? [],
      caFiles: opts.caFiles ?? [],
      userAgent: opts.userAgent ?? 'cairn',
      timeoutMs: opts.fetchTimeoutMs ?? 60_000,
      retry: { ...DEFAULT_RETRY, ...opts.retry },
      credentials: opts.credentials,
    });
  }

  private scope(actions: string, repository = this.repo): string {
    return `repository:${repository}:${actions}`;
  }

  prepare(opts: TransferOptions = {}): void {
    this.client.prepare(opts);
  }

  async statBlob(digest: Digest, opts: TransferOptions = {}): Promise<number | undefined> {
    parseDigest(digest);
    const res = await this.client.send({
      method: 'HEAD', url: `/v2/${this.repo}/blobs/${digest}`, scopes: [this.scope('pull')], ok: [200, 404],
      what: `HEAD blob ${digest} in ${this.name}`,
    }, opts);
    await res.body.dump();
    if (res.status === 404) return undefined;
    const size = Number(res.headers['content-length']);
    if (!Number.isSafeInteger(size)) throw new RegistryError('REGISTRY_ERROR', `HEAD blob ${digest} in ${this.name}: no valid Content-Length in the answer`);
    return size;
  }

  async openBlob(desc: { digest: Digest; size?: number }, opts: TransferOptions = {}): Promise<Readable> {
    parseDigest(desc.digest);
    return downloadBlob(this.client, { repository: this.repo, scopes: [this.scope('pull')], name: this.name }, desc, opts);
  }

  async putBlob(desc: BlobDescriptor, open: () => Promise<Readable>, opts: TransferOptions = {}): Promise<boolean> {
    if ((await this.statBlob(desc.digest, opts)) !== undefined) {
      opts.progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'skip' });
      return false;
    }
    const target = { repository: this.repo, scopes: [this.scope('pull,push')], name: this.name, chunkSize: this.chunkSize, monolithicMax: this.monolithicMax };
    await uploadBlob(this.client, target, desc, open, opts);
    return true;
  }

  /**
   * Cross-repository blob mount (distribution-spec "Mounting a blob from another repository"):
   * `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>`; 201 = mounted, 202 = declined (the upload
   * session it opened is cancelled). A registry that refuses the source repository's scope also counts as declined.
   */
  async mountBlob(desc: BlobDescriptor, from: RegistryLocation, opts: TransferOptions = {}): Promise<boolean> {
    parseDigest(desc.digest);
    if (!sameRegistry(from.host, this.location.host) || from.repository === this.repo) return false;
    const what = `mount blob ${desc.digest} from ${from.repository} into ${this.name}`;
    const scopes = [this.scope('pull,push'), this.scope('pull', from.repository)];
    const query = new URLSearchParams({ mount: desc.digest, from: from.repository });
    let res;
    try {
      res = await this.client.send({
        method: 'POST', url: `/v2/${this.repo}/blobs/uploads/?${query}`, headers: { 'content-length': '0' }, scopes, ok: [201, 202], what,
      }, opts);
    } catch (e) {
      if (e instanceof CairnError && (e.code === 'DENIED' || e.code === 'UNAUTHORIZED')) return false;
      throw e;
    }
    await res.body.dump();
    if (res.status === 201) {
      opts.progress?.({ kind: 'blob-done', digest: desc.digest, total: desc.size, action: 'mount' });
      return true;
    }
    const location = res.headers.location;
    if (typeof location === 'string') {
      await this.client
        .send({ method: 'DELETE', url: new URL(location, res.url).toString(), scopes, ok: [204], what: `cancel ${what}`, retry: false }, opts)
        .then((r) => r.body.dump(), () => { /* best effort: registries expire abandoned sessions */ });
    }
    return false;
  }

  /**
   * `GET /v2/<name>/manifests/<ref>` accepting OCI and Docker manifests and indexes. By digest the bytes are
   * verified; by tag the digest is computed, and a `Docker-Content-Digest` that disagrees is an error.
   */
  async getManifest(ref: string, opts: TransferOptions = {}): Promise<ManifestData> {
    checkRef(ref);
    const what = `GET manifest ${this.name}${isDigest(ref) ? '@' : ':'}${ref}`;
    const { res, bytes } = await this.client.fetchBytes({
      method: 'GET', url: `/v2/${this.repo}/manifests/${ref}`, headers: { accept: MANIFEST_ACCEPT.join(', ') },
      scopes: [this.scope('pull')], ok: [200], what, notFound: 'MANIFEST_NOT_FOUND',
    }, MAX_MANIFEST_BYTES, opts);
    const computed = sha256(bytes);
    if (isDigest(ref)) verifyBytes(bytes, { digest: parseDigest(ref) }, what);
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && isDigest(header) && header !== computed) {
      throw new CairnError('DIGEST_MISMATCH', `${what}: the registry says the digest is ${header} but the content hashes to ${computed}`, {
        hint: 'the registry or a proxy altered the manifest; nothing was stored',
      });
    }
    return { mediaType: manifestMediaType(res.headers['content-type'], bytes), digest: computed, bytes };
  }

  /**
   * `PUT /v2/<name>/manifests/<tag or digest>` with the manifest's media type as Content-Type. The document is
   * checked first (INVALID_MANIFEST); a registry refusing it for a missing blob gives BLOB_NOT_FOUND (for an
   * index: a missing child manifest, MANIFEST_NOT_FOUND).
   *
   * A registry names what it stored in Docker-Content-Digest. Bytes changed on the way are sent again (see
   * sendManifest). When they keep arriving changed, the tag names bytes that are not the manifest: it is put
   * back on `opts.previous` when given, and DIGEST_MISMATCH says where the tag was left.
   */
  async putManifest(manifest: { mediaType: string; bytes: Buffer }, tag?: string, opts: PutManifestOptions = {}): Promise<Digest> {
    if (tag !== undefined) checkRef(tag);
    const digest = sha256(manifest.bytes);
    const what = `PUT manifest ${this.name}${tag ? ':' + tag : '@' + digest}`;
    const sent = await this.sendManifest(manifest, digest, tag, what, opts);
    if (sent.stored === digest) return digest;
    let left = tag ? `${this.name}:${tag} now names those bytes` : 'nothing names those bytes';
    if (tag && opts.previous) {
      const before = sha256(opts.previous.bytes);
      const back = await this.sendManifest(opts.previous, before, tag, `${what} (putting back the image before)`, opts).catch(() => undefined);
      if (back?.stored === before) left = `${this.name}:${tag} names the image before again (${before})`;
    }
    throw new CairnError('DIGEST_MISMATCH', `${what}: the registry stored it as ${sent.stored}, not ${digest} (${sent.sends} sends); ${left}`, {
      ...(sent.error ? { cause: sent.error } : {}),
      hint: sent.rewritten
        ? 'the registry rewrites manifests; push to a registry that stores them unchanged'
        : 'the bytes keep changing between cairn and the registry: check proxies on the way, or push over HTTPS',
    });
  }

  /**
   * Sends manifest bytes (of `digest`) under `ref` until the registry reports storing those bytes, up to
   * MANIFEST_PUT_ATTEMPTS times. Returns what it stored last: `digest`, or another digest after the last send.
   *
   * - A send stored as other bytes, or refused with 400 after the same bytes were accepted, or refused as not
   *   matching the digest it is sent under, changed on the way: it is sent again.
   * - The same other digest twice means the registry rewrites manifests (`rewritten`): sending again cannot help.
   * - An error on the first send is thrown (the registry has not stored anything under `ref`); a later one
   *   ends the sends and is returned as `error`, beside what the registry holds.
   */
  private async sendManifest(manifest: { mediaType: string; bytes: Buffer }, digest: Digest, tag: string | undefined, what: string, opts: TransferOptions): Promise<SentManifest> {
    const { kind } = manifestRefs(manifest.mediaType, manifest.bytes, what);
    let stored: string | undefined;
    for (let sends = 1; ; sends++) {
      let res;
      try {
        res = await this.client.send({
          method: 'PUT', url: `/v2/${this.repo}/manifests/${tag ?? digest}`,
          headers: { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.length) },
          body: manifest.bytes, scopes: [this.scope('pull,push')], ok: [200, 201, 202], what,
          referenceMissing: kind === 'index' ? 'MANIFEST_NOT_FOUND' : 'BLOB_NOT_FOUND',
        }, opts);
        await res.body.dump();
      } catch (e) {
        const changed = e instanceof RegistryError && e.status === 400 && (stored !== undefined || (tag === undefined && /DIGEST_INVALID/.test(e.message)));
        if (!changed || sends === MANIFEST_PUT_ATTEMPTS) {
          if (stored === undefined) throw e;
          return { stored, sends, rewritten: false, error: e };
        }
        continue;
      }
      const header = res.headers['docker-content-digest'];
      if (typeof header !== 'string' || !isDigest(header) || header === digest) return { stored: digest, sends, rewritten: false };
      if (header === stored) return { stored, sends, rewritten: true };
      stored = header;
      if (sends === MANIFEST_PUT_ATTEMPTS) return { stored, sends, rewritten: false };
    }
  }

  /** `GET /v2/<name>/tags/list`, following `Link: <…>; rel="next"` pages. A repository not yet pushed has no tags. */
  async listTags(opts: TransferOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `/v2/${this.repo}/tags/list`;
    while (url) {
      let page;
      try {
        page = await this.client.fetchBytes({ method: 'GET', url, scopes: [this.scope('pull')], ok: [200], what: `GET tags of ${this.name}` }, MAX_MANIFEST_BYTES, opts);
      } catch (e) {
        if (e instanceof CairnError && e.code === 'NOT_FOUND' && tags.length === 0) return [];
        throw e;
      }
      const body = JSON.parse(page.bytes.toString('utf8')) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const next = nextLink(page.res.headers.link);
      url = next === undefined ? undefined : new URL(next, page.res.url).toString();
    }
    return [...new Set(tags)].sort();
  }

  /**
   * Removes a tag. Registries following distribution-spec 1.1 accept `DELETE /v2/<name>/manifests/<tag>`.
   * Older ones (distribution 2.x) only delete manifests by digest, which would drop every tag of that manifest:
   * there the tag is first pointed at a unique placeholder manifest, which is then deleted by digest
   * (regclient does the same). A registry with deletes disabled gets an UNSUPPORTED error, and the tag is
   * left untouched.
   */
  async deleteTag(tag: string, opts: TransferOptions = {}): Promise<void> {
    checkRef(tag);
    const what = `delete tag ${this.name}:${tag}`;
    const del = (ref: string, ok: number[]) =>
      this.client.send({ method: 'DELETE', url: `/v2/${this.repo}/manifests/${ref}`, scopes: [this.scope('pull,push,delete')], ok, what, notFound: 'MANIFEST_NOT_FOUND' }, opts);
    const res = await del(tag, [200, 202, 204, 400, 405]);
    const body = await res.body.text();
    if (res.status < 300) return;
    if (res.status === 400 && !/DIGEST_INVALID|UNSUPPORTED|TAG_INVALID/.test(body)) {
      throw new RegistryError('REGISTRY_ERROR', `${what} failed: HTTP 400: ${body.trim()}`, { status: 400 });
    }
    await this.getManifest(tag, opts); // MANIFEST_NOT_FOUND for a tag that does not exist
    const placeholder = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciEmpty, digest: sha256('{}'), size: 2 },
      layers: [],
      annotations: { 'dev.cairn.deleted-tag': tag, 'dev.cairn.nonce': Math.random().toString(36).slice(2) },
    }));
    const probe = await del(sha256(placeholder), [202, 404, 405]); // not stored yet: 404 if deletes work
    const probeBody = await probe.body.text();
    if (probe.status !== 404 || /UNSUPPORTED/.test(probeBody)) {
      throw new CairnError('UNSUPPORTED', `${what} failed: the registry ${this.location.host} does not allow deleting`, {
        hint: 'enable deletes on the registry (distribution: storage.delete.enabled: true) or remove the tag with its own tools',
      });
    }
    await this.putBlob({ digest: sha256('{}'), size: 2, mediaType: MediaType.OciEmpty }, async () => Readable.from([Buffer.from('{}')]), opts);
    const digest = await this.putManifest({ mediaType: MediaType.OciManifest, bytes: placeholder }, tag, opts);
    await (await del(digest, [200, 202, 204])).body.dump();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

const TAG = /^[\w][\w.-]{0,127}$/;

/** A manifest reference is a digest (INVALID_DIGEST otherwise) or a tag (INVALID_REFERENCE otherwise). */
function checkRef(ref: string): void {
  if (ref.includes(':')) parseDigest(ref);
  else if (!TAG.test(ref)) {
    throw new CairnError('INVALID_REFERENCE', `invalid tag "${ref}"`, { hint: 'a tag is 1-128 of [A-Za-z0-9_.-], not starting with . or -' });
  }
}

/** The media type of fetched manifest bytes: Content-Type, else the document's own `mediaType`, else by shape. */
function manifestMediaType(contentType: string | string[] | undefined, bytes: Buffer): string {
  const ct = typeof contentType === 'string' ? contentType.split(';')[0]!.trim() : '';
  if (ct && ct !== 'application/json' && ct !== 'text/plain' && ct !== 'application/octet-stream') return ct;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
    if (typeof doc.mediaType === 'string') return doc.mediaType;
    return Array.isArray(doc.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  } catch {
    return ct || MediaType.OciManifest;
  }
}

/** The target of a `Link: <url>; rel="next"` header (RFC 8288), as registries paginate tag lists. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const all = Array.isArray(header) ? header.join(', ') : header ?? '';
  for (const m of all.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]*)*)/g)) {
    if (/;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2]!)) return m[1];
  }
  return undefined;
}
