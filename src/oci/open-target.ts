/**
 * Opens the Store a Target names, and says which key to read or which tag to write there.
 * The only place that maps transports to store implementations. Archive and daemon stores (and their tar code)
 * are imported only when a target names them, so that a command over layouts and registries starts faster.
 */
import { join, resolve } from 'node:path';
import { dockerConfigCredentials } from './auth/docker-config.js';
import { CairnError } from './errors.js';
import { formatImageName, type ImageName, lookupKey } from './reference.js';
import { openLayoutStore } from './store/layout/layout-store.js';
import { cairnHome, openLocalStore } from './store/local.js';
import { openRegistryStore } from './store/registry/registry-store.js';
import type { Store } from './store/store.js';
import { extraCaFiles } from './tls-trust.js';
import type { Target } from './transport.js';

/** What opening a target takes from the world: the environment and working folder of the caller. */
export interface TargetContext {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Sent as the registry User-Agent, e.g. `cairn/0.1.0`. */
  userAgent: string;
}

export interface RegistryOptions {
  /** Registries spoken to over plain HTTP (`HOST:PORT`), like pack's --insecure-registry. */
  insecure: string[];
  /** Extra CA certificates (PEM) trusted for registry TLS. */
  caCerts: string[];
  /** Longest silence from a registry (no headers, or a stalled body) before the connection is cut; default 60 s. */
  timeoutMs?: number;
}

export interface OpenedTarget {
  store: Store;
  /** Reading: the tag or digest to load. Writing: the tag to write (undefined: by digest only). */
  key: string;
  /** The image name the target carries, if any (used to name an image written to an archive). */
  name: ImageName | undefined;
  /** Whether the store can hold a multi-platform index (archives and daemons hold single images). */
  holdsIndexes: boolean;
  /** Frees unreferenced blobs after a removal, where the store has GC. */
  gc?: () => Promise<unknown>;
}

export interface OpenTargetOptions {
  /** Name to give an image written to an archive or daemon when the target names none. */
  defaultName?: ImageName | undefined;
}

export async function openTarget(t: Target, mode: 'read' | 'write', ctx: TargetContext, reg: RegistryOptions, opts: OpenTargetOptions = {}): Promise<OpenedTarget> {
  switch (t.kind) {
    case 'local': {
      const store = await openLocalStore(cairnHome(ctx.env));
      return { store, key: t.key, name: t.name, holdsIndexes: true, gc: () => store.gc() };
    }
    case 'oci': {
      const store = await openLayoutStore(resolve(ctx.cwd, t.dir), { create: mode === 'write' });
      const key = t.tag ?? (mode === 'write' ? 'latest' : await soleTag(store, `oci:${t.dir}`));
      return { store, key, name: undefined, holdsIndexes: true, gc: () => store.gc() };
    }
    case 'registry': {
      const n = t.name;
      const store = openRegistryStore({
        host: n.registry,
        repository: n.repository,
        insecure: reg.insecure.includes(n.registry),
        caCerts: reg.caCerts,
        caFiles: extraCaFiles(ctx.env),
        credentials: dockerConfigCredentials({ dockerConfigDir: ctx.env.DOCKER_CONFIG, homeDir: ctx.env.HOME }),
        userAgent: ctx.userAgent,
        ...(reg.timeoutMs !== undefined ? { fetchTimeoutMs: reg.timeoutMs } : {}),
      });
      return { store, key: lookupKey(n), name: n, holdsIndexes: true };
    }
    case 'oci-archive': {
      if (mode === 'read') throw unsupported('reading oci-archive: files', 'unpack it with `tar -x` and use oci:DIR:TAG');
      return { store: await (await import('./store/archive/oci-archive.js')).createOciArchive(resolve(ctx.cwd, t.file)), key: t.tag ?? 'latest', name: undefined, holdsIndexes: true };
    }
    case 'docker-archive': {
      const file = resolve(ctx.cwd, t.file);
      const name = t.name ?? opts.defaultName;
      const { createDockerArchive, openDockerArchive } = await import('./store/archive/docker-archive.js');
      if (mode === 'read') {
        const store = await openDockerArchive(file, { tempDir: join(cairnHome(ctx.env), 'tmp') });
        return { store, key: t.name ? formatImageName(t.name) : await soleTag(store, `docker-archive:${t.file}`), name: t.name, holdsIndexes: false };
      }
      const repoTag = name ? formatImageName({ ...name, digest: undefined }) : undefined;
      if (!repoTag) throw new CairnError('INVALID_REFERENCE', `docker-archive:${t.file} needs an image name`, { hint: `write docker-archive:${t.file}:NAME:TAG` });
      return { store: await createDockerArchive(file), key: repoTag, name, holdsIndexes: false };
    }
    case 'docker-daemon': {
      const { openDaemonStore } = await import('./store/daemon/daemon-store.js');
      const store = await openDaemonStore({ dockerHost: ctx.env.DOCKER_HOST, tempDir: join(cairnHome(ctx.env), 'tmp') });
      return { store, key: formatImageName({ ...t.name, digest: undefined }), name: t.name, holdsIndexes: false };
    }
  }
}

async function soleTag(store: Store, where: string): Promise<string> {
  const tags = await store.listTags();
  if (tags.length === 1) return tags[0]!;
  throw new CairnError('INVALID_REFERENCE', tags.length === 0 ? `${where} holds no tagged image` : `${where} holds several images (${tags.join(', ')}) and none was named`, {
    hint: `name one: ${where}:TAG`,
  });
}

function unsupported(what: string, hint: string): CairnError {
  return new CairnError('UNSUPPORTED', `${what} is not supported`, { hint });
}
