/**
 * Media types of the OCI image spec (v1.1) and Docker image manifest v2 schema 2.
 * cairn reads both families and writes OCI, converting to Docker types only where the sink needs them.
 */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type MediaTypeName = (typeof MediaType)[keyof typeof MediaType];

export function isIndexType(mt: string | undefined): boolean {
  return mt === MediaType.OciIndex || mt === MediaType.DockerManifestList;
}

export function isManifestType(mt: string | undefined): boolean {
  return mt === MediaType.OciManifest || mt === MediaType.DockerManifest;
}

export function isConfigType(mt: string | undefined): boolean {
  return mt === MediaType.OciConfig || mt === MediaType.DockerConfig;
}

/** Whether a layer media type is gzip-compressed. */
export function isGzipLayer(mt: string): boolean {
  return mt.endsWith('+gzip') || mt.endsWith('.tar.gzip');
}

/** Whether a layer media type is an uncompressed tar. */
export function isPlainTarLayer(mt: string): boolean {
  return mt === MediaType.OciLayer || mt === 'application/vnd.oci.image.layer.nondistributable.v1.tar';
}

export function isZstdLayer(mt: string): boolean {
  return mt.endsWith('+zstd');
}

/** Media types accepted for `Accept:` when fetching a manifest by tag or digest. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

/** The Docker schema 2 equivalent of an OCI media type, for sinks that need Docker types. */
export function toDockerType(mt: string): string {
  switch (mt) {
    case MediaType.OciManifest: return MediaType.DockerManifest;
    case MediaType.OciIndex: return MediaType.DockerManifestList;
    case MediaType.OciConfig: return MediaType.DockerConfig;
    case MediaType.OciLayerGzip: return MediaType.DockerLayerGzip;
    case MediaType.OciLayerNondistributableGzip: return MediaType.DockerForeignLayerGzip;
    default: return mt;
  }
}
