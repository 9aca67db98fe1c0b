/**
 * The image config of a stack's build and run images (digest §7.2; platform spec "Build Image",
 * "Run Image"; distribution 0.3 draft for the run image's user and ids):
 *
 * - `User` is the CNB user as `uid:gid` (non-root) in both images; `Env` holds `PATH`, `CNB_USER_ID` and
 *   `CNB_GROUP_ID` in both; `WorkingDir` is `/` (a builder made from the build image sets `/layers`);
 * - os/architecture (and variant `v8` on arm64) from stack.toml, equal in both images;
 * - labels `io.buildpacks.base.{id,distro.name,distro.version,maintainer,released}` and the legacy
 *   `io.buildpacks.stack.id`; `io.buildpacks.rebasable=true` on the run image (its updates are
 *   ABI-compatible package updates of one Debian release); stack.toml's `[labels]` and `[<image>.labels]`
 *   come first, so a stack can set its own maintainer or homepage but not change what cairn derives;
 * - `created`, the `released` label and every layer mtime are the newest Release date of the lock's
 *   sources, never the clock: the same lock gives the same config bytes.
 */
import { CairnError } from '../../oci/errors.js';
import type { ImageConfig } from '../../oci/spec.js';
import type { ImageKind } from '../compose.js';
import type { StackConfig } from '../config.js';
import type { StackLock } from '../lock.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_MAINTAINER = 'cairn';

/** Debian release numbers by codename (`io.buildpacks.base.distro.version`, as /etc/os-release VERSION_ID). */
export const DEBIAN_VERSIONS: Readonly<Record<string, string>> = { bullseye: '11', bookworm: '12', trixie: '13' };

/** OCI platform of a Debian architecture. */
export function ociPlatform(debianArch: string): { architecture: string; variant?: string } {
  if (debianArch === 'amd64') return { architecture: 'amd64' };
  if (debianArch === 'arm64') return { architecture: 'arm64', variant: 'v8' };
  throw new CairnError('INVALID_ARGUMENT', `architecture ${debianArch} has no OCI platform mapping`, { hint: 'use amd64 or arm64' });
}

/** The newest Release `Date` among the lock's sources: the stack's release time. */
export function lockReleaseDate(lock: StackLock): Date {
  if (lock.sources.length === 0) {
    throw new CairnError('INVALID_ARGUMENT', 'stack.lock lists no sources, so it has no release date', { hint: 'regenerate stack.lock with --update' });
  }
  return new Date(Math.max(...lock.sources.map((s) => parseReleaseDate(s.date, s.suite).getTime())));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses a Release file `Date` (RFC 2822 as Debian writes it: `Sat, 11 Jul 2026 10:16:37 UTC`). */
export function parseReleaseDate(text: string, suite: string): Date {
  const m = /^(?:[A-Z][a-z]{2}, +)?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (UTC|GMT|Z|[+-]\d{4})$/.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[2]!) : -1;
  if (!m || month < 0) {
    throw new CairnError('INVALID_ARGUMENT', `stack.lock: the date "${text}" of suite ${suite} is not an RFC 2822 date`, { hint: 'regenerate stack.lock with --update' });
  }
  const zone = m[7]!;
  const offset = /^[+-]/.test(zone) ? (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) : 0;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  return new Date(utc - offset * 60_000);
}

/** RFC 3339 without fractional seconds, as image configs carry times. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface StackImageConfigInput {
  config: StackConfig;
  lock: StackLock;
  image: ImageKind;
  /** What made the one layer (its history entry), e.g. `cairn stack create (build, 312 packages)`. */
  createdBy: string;
}

/** The config of a stack image with one layer (`rootfs.diff_ids` is left empty: makeImage fills it in). */
export function stackImageConfig(input: StackImageConfigInput): ImageConfig {
  const { config, lock, image } = input;
  const released = lockReleaseDate(lock);
  const distroVersion = DEBIAN_VERSIONS[config.suite];
  if (!distroVersion) throw new CairnError('INVALID_ARGUMENT', `suite ${config.suite} has no Debian version number`, { hint: 'use bullseye, bookworm or trixie' });
  const user = config.user;
  const labels: Record<string, string> = {
    'io.buildpacks.base.maintainer': DEFAULT_MAINTAINER,
    ...config.labels,
    ...config[image].labels,
    'io.buildpacks.base.id': config.id,
    'io.buildpacks.base.distro.name': config.distro,
    'io.buildpacks.base.distro.version': distroVersion,
    'io.buildpacks.base.released': rfc3339(released),
    'io.buildpacks.stack.id': config.id,
  };
  if (image === 'run') labels['io.buildpacks.rebasable'] = 'true';
  const platform = ociPlatform(config.arch);
  return {
    created: rfc3339(released),
    architecture: platform.architecture,
    os: 'linux',
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      User: `${user.uid}:${user.gid}`,
      Env: [`PATH=${DEFAULT_PATH}`, `CNB_USER_ID=${user.uid}`, `CNB_GROUP_ID=${user.gid}`],
      WorkingDir: '/',
      Labels: Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created: rfc3339(released), created_by: input.createdBy }],
  };
}
