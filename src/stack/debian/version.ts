/**
 * Debian package versions: `[epoch:]upstream_version[-debian_revision]` (Debian Policy §5.6.12) and dpkg's
 * ordering of them (dpkg lib/dpkg/version.c `dpkg_version_compare`): epochs compare as integers, then the
 * upstream parts and the revisions with `verrevcmp`, which alternates non-digit runs (compared character by
 * character: `~` before the end of the string, before letters, before everything else) and digit runs
 * (compared as integers).
 */
import { CairnError } from '../../oci/errors.js';

export interface DebianVersion {
  epoch: number;
  upstream: string;
  /** Empty when the version has no `-revision`. */
  revision: string;
}

const UPSTREAM_RE = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION_RE = /^[A-Za-z0-9.+~]+$/;

/** Parses a version string; throws INVALID_ARGUMENT when it breaks Debian Policy §5.6.12. */
export function parseVersion(s: string): DebianVersion {
  const text = s.trim();
  let epoch = 0;
  let rest = text;
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const e = text.slice(0, colon);
    if (!/^[0-9]+$/.test(e)) throw badVersion(s, 'the epoch is not a number');
    epoch = Number(e);
    rest = text.slice(colon + 1);
  }
  let upstream = rest;
  let revision = '';
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) {
    upstream = rest.slice(0, dash);
    revision = rest.slice(dash + 1);
    if (!REVISION_RE.test(revision)) throw badVersion(s, 'the revision is empty or has characters outside [A-Za-z0-9.+~]');
  }
  if (!UPSTREAM_RE.test(upstream)) throw badVersion(s, 'the upstream version must start with a digit and use only [A-Za-z0-9.+~:-]');
  return { epoch, upstream, revision };
}

function badVersion(s: string, why: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', `invalid Debian version "${s}": ${why}`, {
    hint: 'a Debian version looks like [epoch:]upstream[-revision], e.g. 1:2.36-9+deb12u4',
  });
}

/** dpkg's weight of one character in a non-digit run; `undefined` is the end of the string. */
function order(c: number | undefined): number {
  if (c === undefined) return 0;
  if (c >= 0x30 && c <= 0x39) return 0;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c;
  if (c === 0x7e) return -1;
  return c + 256;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** dpkg's `verrevcmp`: compares two upstream versions or two revisions. Negative, zero or positive. */
function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number | undefined => (k < s.length ? s.charCodeAt(k) : undefined);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(at(a, i))) || (j < b.length && !isDigit(at(b, j)))) {
      const ac = order(at(a, i));
      const bc = order(at(b, j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (at(a, i) === 0x30) i++;
    while (at(b, j) === 0x30) j++;
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (firstDiff === 0) firstDiff = at(a, i)! - at(b, j)!;
      i++;
      j++;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** Compares two versions in dpkg order: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string | DebianVersion, b: string | DebianVersion): number {
  const va = typeof a === 'string' ? parseVersion(a) : a;
  const vb = typeof b === 'string' ? parseVersion(b) : b;
  if (va.epoch !== vb.epoch) return va.epoch > vb.epoch ? 1 : -1;
  return compareFragment(va.upstream, vb.upstream) || compareFragment(va.revision, vb.revision);
}

/** Relation operators of a versioned dependency (Debian Policy §7.1). */
export type VersionOp = '<<' | '<=' | '=' | '>=' | '>>';

/** Whether `version` satisfies `op constraint`, e.g. satisfiesVersion('2.36-9', '>=', '2.34'). */
export function satisfiesVersion(version: string, op: VersionOp, constraint: string): boolean {
  const c = compareVersions(version, constraint);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
