/**
 * A Store over a Docker or podman engine's API socket ("docker-daemon"). Engines take and give whole
 * images as docker-archives, so:
 * - writing stages blobs and manifests like the docker-archive writer, and `close()` posts the archive to
 *   `POST /images/load` (one request for every image stored);
 * - reading a tag saves the image with `GET /images/get` into a temp docker-archive and reads that, so its
 *   manifest is the one the docker-archive reader synthesises (an OCI image cairn loaded reads back with its
 *   digest). Digests are known only for images read or staged in this session.
 * - `listTags` lists every tagged image of the engine; `deleteTag` untags (`DELETE /images/{name}`), which
 *   removes the image when that was its last tag.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../digest.js';
import { CairnError, isCairnError } from '../../errors.js';
import { checkRefName, isDigestRef } from '../layout/index-json.js';
import { type LayoutStore, openLayoutStore } from '../layout/layout-store.js';
import { blobNotFound, manifestNotFound } from '../layout/store-errors.js';
import { type DockerArchiveReader, dockerArchiveEntries, openDockerArchive, sameImageName } from '../archive/docker-archive.js';
import { checkRepoTag, StagingStore } from '../archive/staging-store.js';
import { packEntries } from '../archive/tar-pack.js';
import type { ManifestData, TransferOptions } from '../store.js';
import { EngineClient, readText } from './engine-client.js';

export interface DaemonStoreOptions {
  /** The DOCKER_HOST value (`unix:///path` or `tcp://127.0.0.1:PORT`); default unix:///var/run/docker.sock. */
  dockerHost?: string;
  /** Folder for staging and saved images (the CLI passes the OS temp folder). */
  tempDir: string;
}

/** Connects to the engine (failing early with DAEMON_UNAVAILABLE and a hint) and returns its store. */
export async function openDaemonStore(opts: DaemonStoreOptions): Promise<DaemonStore> {
  const client = new EngineClient(opts.dockerHost);
  await client.ping();
  await mkdir(opts.tempDir, { recursive: true });
  const work = await mkdtemp(join(opts.tempDir, 'cairn-daemon-'));
  const stage = await openLayoutStore(join(work, 'stage'), { create: true, name: `docker-daemon:${client.where}` });
  return new DaemonStore(client, stage, work);
}

export class DaemonStore extends StagingStore {
  private readonly saved: DockerArchiveReader[] = [];

  constructor(
    private readonly client: EngineClient,
    stage: LayoutStore,
    private readonly work: string,
  ) {
    super(`docker-daemon:${client.where}`, stage);
  }

  override async statBlob(digest: Digest): Promise<number | undefined> {
    return (await super.statBlob(digest)) ?? (await this.savedWith(digest))?.statBlob(digest);
  }

  override async openBlob(desc: { digest: Digest; size?: number }): Promise<Readable> {
    if ((await super.statBlob(desc.digest)) !== undefined) return super.openBlob(desc);
    const reader = await this.savedWith(desc.digest);
    if (!reader) throw blobNotFound(desc.digest, this.name);
    return reader.openBlob(desc);
  }

  override async getManifest(ref: string): Promise<ManifestData> {
    try {
      return await super.getManifest(ref);
    } catch (e) {
      if (!isCairnError(e, 'MANIFEST_NOT_FOUND')) throw e;
    }
    for (const r of this.saved) {
      if (r.images().some((i) => i.digest === ref || i.tags.some((t) => sameImageName(t, ref)))) return r.getManifest(ref);
    }
    if (isDigestRef(ref)) {
      throw new CairnError('MANIFEST_NOT_FOUND', `manifest ${ref} not found in ${this.name}`, { hint: 'an engine finds images by name: read it by NAME:TAG' });
    }
    const reader = await this.save(ref);
    const images = reader.images();
    // The engine saved what it resolved `ref` to; it may name it differently (short vs full name).
    const match = images.find((i) => i.tags.some((t) => sameImageName(t, ref))) ?? (images.length === 1 ? images[0] : undefined);
    if (!match) throw manifestNotFound(ref, this.name, undefined);
    return reader.getManifest(match.digest);
  }

  override async listTags(): Promise<string[]> {
    const { text } = await this.client.call('GET', '/images/json');
    const tags = new Set(await super.listTags());
    for (const img of JSON.parse(text) as { RepoTags?: string[] | null }[]) {
      for (const t of img.RepoTags ?? []) if (t !== '<none>:<none>') tags.add(t);
    }
    return [...tags].sort();
  }

  override async deleteTag(tag: string): Promise<void> {
    try {
      await super.deleteTag(tag);
      return;
    } catch (e) {
      if (!isCairnError(e, 'MANIFEST_NOT_FOUND')) throw e;
    }
    checkRepoTag(tag);
    const { status } = await this.client.call('DELETE', `/images/${tag}?noprune=1`, [404]);
    if (status === 404) throw manifestNotFound(tag, this.name, undefined);
  }

  /** Loads every staged image into the engine, then removes the temp files. */
  async close(opts: TransferOptions = {}): Promise<void> {
    try {
      const images = await this.stagedImages();
      if (images.length > 0) {
        const archive = packEntries(dockerArchiveEntries(images, (d) => this.stage.paths.blob(d)));
        const res = await this.client.send('POST', '/images/load?quiet=1', { body: archive, contentType: 'application/x-tar', ...(opts.signal ? { signal: opts.signal } : {}) });
        const text = await readText(res.body);
        if (res.status >= 400) throw this.client.apiError('POST', '/images/load', res.status, text);
        const failure = loadFailure(text);
        if (failure) {
          throw new CairnError('DAEMON_ERROR', `the engine at ${this.client.where} refused the image: ${failure}`, { hint: 'see the engine\'s log for details' });
        }
      }
    } finally {
      await this.discard();
    }
  }

  /** Drops what was staged, without loading it, and every temp file. */
  override async discard(): Promise<void> {
    for (const r of this.saved.splice(0)) await r.close();
    await super.discard();
    await rm(this.work, { recursive: true, force: true });
  }

  private async savedWith(digest: Digest): Promise<DockerArchiveReader | undefined> {
    for (const r of this.saved) if ((await r.statBlob(digest)) !== undefined) return r;
    return undefined;
  }

  /**
   * `GET /images/get?names=ref` into a temp archive, opened for reading. Existence is asked first with
   * `GET /images/{ref}/json`, whose 404 both engines agree on (podman answers 500 to saving a missing image).
   */
  private async save(ref: string): Promise<DockerArchiveReader> {
    checkRefName(ref);
    const { status } = await this.client.call('GET', `/images/${encodeURI(ref)}/json`, [404]);
    if (status === 404) throw manifestNotFound(ref, this.name, undefined);
    const path = join(this.work, `saved-${this.saved.length}.tar`);
    const res = await this.client.send('GET', `/images/get?names=${encodeURIComponent(ref)}`);
    if (res.status >= 400) throw this.client.apiError('GET', '/images/get', res.status, await readText(res.body));
    await pipeline(res.body, createWriteStream(path, { flags: 'wx' }));
    const reader = await openDockerArchive(path, { name: `${this.name} (${ref})` });
    this.saved.push(reader);
    return reader;
  }
}

/** The error in a `POST /images/load` progress stream (JSON objects, one per line), if any. */
function loadFailure(text: string): string | undefined {
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
      if (msg.error || msg.errorDetail) return msg.errorDetail?.message ?? msg.error;
    } catch {
      // a non-JSON line carries no error
    }
  }
  return undefined;
}
