/**
 * Builders to suggest (`cairn builder suggest`): cairn's own, then the well-known public ones that pack
 * suggests (pack `internal/builder/trusted_builder.go`). The public ones live on registries this machine may
 * not reach; cairn lists them for reference, as pack does.
 */

export interface SuggestedBuilder {
  vendor: string;
  image: string;
  description: string;
}

/** cairn's default builder: made locally from stacks/ by `cairn stack create` + `cairn builder create`. */
export const DEFAULT_BUILDER = 'cairn/builder:bookworm';

export const SUGGESTED_BUILDERS: readonly SuggestedBuilder[] = [
  { vendor: 'cairn', image: DEFAULT_BUILDER, description: 'Debian 12 build image and distroless-style tiny run image composed from Debian packages (stacks/tiny); made locally, see docs/builder.md' },
  { vendor: 'Paketo Buildpacks', image: 'paketobuildpacks/builder-jammy-base', description: 'Ubuntu 22.04 base image with buildpacks for Java, Node.js, Go, .NET Core, Python and Ruby' },
  { vendor: 'Paketo Buildpacks', image: 'paketobuildpacks/builder-jammy-full', description: 'Larger Ubuntu 22.04 image with buildpacks for Java, Node.js, Go, .NET Core, Python, Ruby and PHP' },
  { vendor: 'Paketo Buildpacks', image: 'paketobuildpacks/builder-jammy-tiny', description: 'Ubuntu 22.04 build image and distroless run image, with buildpacks for Go and Java' },
  { vendor: 'Paketo Buildpacks', image: 'paketobuildpacks/ubuntu-noble-builder', description: 'Ubuntu 24.04 base image with buildpacks for Java, Node.js and .NET Core' },
  { vendor: 'Heroku', image: 'heroku/builder:24', description: 'Ubuntu 24.04 (amd64 and arm64) with buildpacks for Go, Java, Node.js, PHP, Python, Ruby and Scala' },
  { vendor: 'Google', image: 'gcr.io/buildpacks/builder', description: 'Ubuntu 22.04 with buildpacks for .NET, Dart, Go, Java, Node.js, PHP, Python and Ruby' },
];
