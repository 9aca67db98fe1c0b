/**
 * Transports: where an image reference written by a user points. The prefix picks the transport, as in
 * containers/image and skopeo:
 *
 *   myapp, myapp:v2, myapp@sha256:…        cairn's local store (a bare name: no registry host)
 *   host[:port]/path[:tag], docker://REF   a registry (a bare name too, when `publish` is asked for)
 *   oci:DIR[:TAG]                          an OCI image layout folder
 *   oci-archive:FILE[:TAG]                 an OCI layout in a tar file
 *   docker-archive:FILE[:REF]              the `docker save` / `docker load` format
 *   docker-daemon:REF                      a Docker or podman engine, over its API socket
 */
import { CairnError } from './errors.js';
import { formatImageName, type ImageName, normalizeRegistryName, parseImageName, shownReference } from './reference.js';

export type Target =
  | { kind: 'local'; name: ImageName; /** tag (`repo:tag`) or digest to look up */ key: string }
  | { kind: 'registry'; name: ImageName & { registry: string } }
  | { kind: 'oci'; dir: string; tag: string | undefined }
  | { kind: 'oci-archive'; file: string; tag: string | undefined }
  | { kind: 'docker-archive'; file: string; name: ImageName | undefined }
  | { kind: 'docker-daemon'; name: ImageName & { registry: string } };

const UNSUPPORTED_TRANSPORTS = ['containers-storage', 'dir', 'ostree', 'sif', 'tarball'];

export interface ParseTargetOptions {
  /** A bare name means a registry (docker.io defaults) instead of the local store, as with `--publish`. */
  publish?: boolean;
}

export function parseTarget(input: string, opts: ParseTargetOptions = {}): Target {
  const colon = input.indexOf(':');
  const prefix = colon > 0 ? input.slice(0, colon) : '';
  const rest = input.slice(colon + 1);
  switch (prefix) {
    case 'oci': {
      const [dir, tag] = splitPathAndTag(input, rest);
      return { kind: 'oci', dir, tag };
    }
    case 'oci-archive': {
      const [file, tag] = splitPathAndTag(input, rest);
      return { kind: 'oci-archive', file, tag };
    }
    case 'docker-archive': {
      const [file, ref] = splitPathAndTag(input, rest);
      return { kind: 'docker-archive', file, name: ref === undefined ? undefined : normalizeRegistryName(parseImageName(ref)) };
    }
    case 'docker-daemon':
      return { kind: 'docker-daemon', name: normalizeRegistryName(parseImageName(rest)) };
    case 'docker':
      if (!rest.startsWith('//')) throw unknownTransport(input, prefix, 'write docker://HOST/REPO:TAG');
      return { kind: 'registry', name: normalizeRegistryName(parseImageName(rest.slice(2))) };
  }
  if (UNSUPPORTED_TRANSPORTS.includes(prefix)) {
    throw unknownTransport(input, prefix, 'copy it with skopeo to oci:DIR:TAG first, or use one of cairn\'s transports');
  }
  if (prefix && /^[a-z][a-z0-9-]*$/.test(prefix) && (rest.startsWith('/') || rest.startsWith('.'))) {
    throw unknownTransport(input, prefix, 'cairn knows oci:, oci-archive:, docker-archive:, docker-daemon: and docker://');
  }
  const name = parseImageName(input);
  if (name.registry !== undefined || opts.publish) return { kind: 'registry', name: normalizeRegistryName(name) };
  const tag = name.tag ?? (name.digest ? undefined : 'latest');
  const local = { ...name, tag };
  return { kind: 'local', name: local, key: name.digest ?? `${name.repository}:${tag}` };
}

function splitPathAndTag(input: string, rest: string): [string, string | undefined] {
  const i = rest.indexOf(':');
  const path = i >= 0 ? rest.slice(0, i) : rest;
  const tag = i >= 0 ? rest.slice(i + 1) : undefined;
  if (path.length === 0) {
    throw new CairnError('INVALID_REFERENCE', `invalid image reference "${shownReference(input)}": the path is empty`, {
      hint: 'write e.g. oci:./out:myapp or docker-archive:./app.tar:myapp:latest',
    });
  }
  if (tag !== undefined && tag.length === 0) {
    throw new CairnError('INVALID_REFERENCE', `invalid image reference "${shownReference(input)}": the tag after "${path}:" is empty`, {
      hint: 'drop the trailing colon or name a tag',
    });
  }
  return [path, tag];
}

function unknownTransport(input: string, prefix: string, hint: string): CairnError {
  return new CairnError('UNKNOWN_TRANSPORT', `unknown transport "${shownReference(prefix)}:" in "${shownReference(input)}"`, { hint });
}

/** How a target is shown to users. */
export function formatTarget(t: Target): string {
  switch (t.kind) {
    case 'local': return formatImageName(t.name);
    case 'registry': return formatImageName(t.name);
    case 'oci': return `oci:${t.dir}${t.tag ? ':' + t.tag : ''}`;
    case 'oci-archive': return `oci-archive:${t.file}${t.tag ? ':' + t.tag : ''}`;
    case 'docker-archive': return `docker-archive:${t.file}${t.name ? ':' + formatImageName(t.name) : ''}`;
    case 'docker-daemon': return `docker-daemon:${formatImageName(t.name)}`;
  }
}
