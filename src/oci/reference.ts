/**
 * Docker-style image references: `[registry[:port]/]path[:tag][@digest]`, following the grammar of the
 * distribution project's reference package. The first path component is a registry host when it contains
 * `.` or `:` or is `localhost`.
 */
import { type Digest, parseDigest } from './digest.js';
import { CairnError } from './errors.js';

export interface ImageName {
  /** Registry host, e.g. `127.0.0.1:5000`, `ghcr.io`; undefined when the reference names none. */
  registry: string | undefined;
  /** Repository path, e.g. `library/node`, `myapp`. */
  repository: string;
  tag: string | undefined;
  digest: Digest | undefined;
}

export const DOCKER_HUB = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const MAX_NAME = 255;

/** A reference as errors show it: control characters escaped, at most 200 characters. */
export function shownReference(ref: string): string {
  const safe = ref.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return safe.length > 200 ? `${safe.slice(0, 200)}… (${ref.length} characters)` : safe;
}

function invalid(ref: string, why: string): CairnError {
  return new CairnError('INVALID_REFERENCE', `invalid image reference "${shownReference(ref)}": ${shownReference(why)}`, {
    hint: 'write a reference as NAME[:TAG] or HOST[:PORT]/PATH[:TAG][@sha256:DIGEST], lowercase, e.g. myapp:v1 or 127.0.0.1:5000/team/app:1.0',
  });
}

/** Parses a reference without applying any default. Throws INVALID_REFERENCE. */
export function parseImageName(ref: string): ImageName {
  if (ref.length === 0) throw invalid(ref, 'it is empty');
  let rest = ref;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch (e) {
      throw invalid(ref, (e as Error).message);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(ref, `tag "${tag}" must be 1-128 of [A-Za-z0-9_.-], not starting with . or -`);
  }
  const parts = rest.split('/');
  let registry: string | undefined;
  if (parts.length > 1) {
    const first = parts[0]!;
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      if (!HOST.test(first)) throw invalid(ref, `"${first}" is not a valid registry host`);
      const port = /:(\d+)$/.exec(first)?.[1];
      if (port !== undefined && Number(port) > 65535) throw invalid(ref, `port ${port} is out of range (1-65535)`);
      registry = first;
      parts.shift();
    }
  }
  const repository = parts.join('/');
  if (repository.length === 0) throw invalid(ref, 'the repository name is empty');
  if (repository.length > MAX_NAME) throw invalid(ref, `the repository name is longer than ${MAX_NAME} characters`);
  for (const c of parts) {
    if (!COMPONENT.test(c)) {
      const why = c !== c.toLowerCase() ? `"${c}" must be lowercase` : `"${c}" is not a valid path component (lowercase letters, digits, and . _ __ - between them)`;
      throw invalid(ref, why);
    }
  }
  return { registry, repository, tag, digest };
}

/**
 * Applies Docker's defaults for a registry reference: no host → docker.io, a single Docker Hub path
 * component → `library/…`, no tag and no digest → `latest`.
 */
export function normalizeRegistryName(n: ImageName): ImageName & { registry: string } {
  const registry = n.registry ?? DOCKER_HUB;
  const isHub = registry === DOCKER_HUB || registry === 'index.docker.io';
  const repository = isHub && !n.repository.includes('/') ? `library/${n.repository}` : n.repository;
  const tag = n.tag ?? (n.digest ? undefined : 'latest');
  return { registry: isHub ? DOCKER_HUB : registry, repository, tag, digest: n.digest };
}

/** The tag or digest to look up in a store: the digest wins when both are given. */
export function lookupKey(n: ImageName): string {
  return n.digest ?? n.tag ?? 'latest';
}

/** `registry/repository[:tag][@digest]`, omitting undefined parts. */
export function formatImageName(n: ImageName): string {
  let s = n.registry ? `${n.registry}/${n.repository}` : n.repository;
  if (n.tag) s += `:${n.tag}`;
  if (n.digest) s += `@${n.digest}`;
  return s;
}
