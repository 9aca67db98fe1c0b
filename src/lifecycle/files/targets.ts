/**
 * TOML form of targets (digest §2.1, §4.2). The variant key is `variant` in the spec and pack but
 * `arch-variant` in the reference lifecycle (digest §12): both are read (they must agree if both are given);
 * `variant` is written.
 */
import type { Distro, Target, TargetData } from '../target.js';
import type { Fields } from './fields.js';
import type { TomlTable } from './toml.js';

function readVariant(f: Fields): string | undefined {
  const a = f.string('variant');
  const b = f.string('arch-variant');
  if (a !== undefined && b !== undefined && a !== b) {
    f.fail('variant', `"${a}" disagrees with arch-variant "${b}"`, 'give only one of variant and arch-variant');
  }
  return a ?? b;
}

function readDistro(f: Fields): Distro {
  return { name: f.string('name') ?? '', version: f.string('version') ?? '' };
}

/** A buildpack.toml `[[targets]]` entry; absent fields are wildcards (''). */
export function readTarget(f: Fields): Target {
  return {
    os: f.string('os') ?? '',
    arch: f.string('arch') ?? '',
    variant: readVariant(f) ?? '',
    distros: f.tables('distros').map(readDistro),
  };
}

export function targetToToml(t: Target): TomlTable {
  return {
    os: t.os || undefined,
    arch: t.arch || undefined,
    variant: t.variant || undefined,
    distros: t.distros.length > 0 ? t.distros.map((d) => ({ name: d.name, version: d.version })) : undefined,
  };
}

/** analyzed.toml `[run-image.target]`. */
export function readTargetData(f: Fields): TargetData {
  const distro = f.table('distro');
  return {
    id: f.string('id') || undefined,
    os: f.string('os') ?? '',
    arch: f.string('arch') ?? '',
    variant: readVariant(f) || undefined,
    distro: distro ? readDistro(distro) : undefined,
  };
}

export function targetDataToToml(t: TargetData): TomlTable {
  return {
    id: t.id || undefined,
    os: t.os,
    arch: t.arch,
    variant: t.variant || undefined,
    distro: t.distro ? { name: t.distro.name, version: t.distro.version } : undefined,
  };
}
