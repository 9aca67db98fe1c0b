/**
 * Targets (digest §2.1, platform spec "Target Data"): what a buildpack supports and what a base image is.
 * Matching lives in `detect/target-match.ts`; TOML readers in `files/targets.ts`.
 */

/** An OS distribution: `/etc/os-release` `ID` and `VERSION_ID`. */
export interface Distro {
  name: string;
  version: string;
}

/** One `[[targets]]` entry of buildpack.toml. An empty string is a wildcard ("matches any"). */
export interface Target {
  os: string;
  arch: string;
  variant: string;
  /** Empty: any distribution. */
  distros: Distro[];
}

/** The target of a base image (analyzed.toml `[run-image.target]`). */
export interface TargetData {
  /** `io.buildpacks.base.id` of the image (reference lifecycle only). */
  id?: string;
  os: string;
  arch: string;
  variant?: string;
  distro?: Distro;
}

/** A target that matches every base image. */
export function anyTarget(): Target {
  return { os: '', arch: '', variant: '', distros: [] };
}
