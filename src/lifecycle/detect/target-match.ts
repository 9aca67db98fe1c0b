/**
 * Target matching for detection (digest §2.1, §3.2, reference `platform.TargetSatisfiedForBuild`): a buildpack
 * target satisfies a base image when `os`, `arch` and `variant` match — an empty value on either side matches
 * anything — and, if the target lists distros, the image has a distro and one listed distro matches its name
 * and version (again with empty = any).
 */
import type { Distro, Target, TargetData } from '../target.js';

function matches(a: string | undefined, b: string | undefined): boolean {
  return !a || !b || a === b;
}

export function targetSatisfied(base: TargetData, target: Target): boolean {
  if (!matches(base.os, target.os) || !matches(base.arch, target.arch) || !matches(base.variant, target.variant)) return false;
  if (target.distros.length === 0) return true;
  const d = base.distro;
  if (!d) return false;
  return target.distros.some((t) => matches(d.name, t.name) && matches(d.version, t.version));
}

/** True when any of the (effective) targets satisfies the base image. An empty list matches anything. */
export function anyTargetSatisfied(base: TargetData, targets: readonly Target[]): boolean {
  return targets.length === 0 || targets.some((t) => targetSatisfied(base, t));
}

/**
 * `/etc/os-release` `ID` and `VERSION_ID` (shell-style `KEY=value`, optionally quoted). Undefined when neither
 * is present.
 */
export function parseOsRelease(text: string): Distro | undefined {
  const vals = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    vals.set(m[1]!, v);
  }
  const name = vals.get('ID') ?? '';
  const version = vals.get('VERSION_ID') ?? '';
  return name === '' && version === '' ? undefined : { name, version };
}

/**
 * A run-image target completed for detection (reference `GetTargetOSFromFileSystem`): when it has no distro,
 * the distro of the build container's `/etc/os-release` (given as text, when it exists) is used; an empty os
 * becomes `linux`.
 */
export function completeTarget(base: TargetData, osRelease: string | undefined): TargetData {
  const out: TargetData = { ...base, os: base.os || 'linux' };
  if (!out.distro && osRelease !== undefined) {
    const d = parseOsRelease(osRelease);
    if (d) out.distro = d;
  }
  return out;
}
