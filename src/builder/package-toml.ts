/**
 * package.toml in pack's format (digest §7.1; pack `buildpackage/config_reader.go`), read strictly: pack
 * rejects unknown keys and so does cairn.
 *
 *   buildpack = { uri = "." }                     # the entry buildpack (folder, .tgz, .cnb, image)
 *   dependencies = [ { uri = "../other" }, { image = "example/bp:1.0" } ]
 *   platform = { os = "linux" }                   # default linux
 *   [[targets]]                                   # optional; the first gives the image's os/arch
 *   os = "linux"
 *   arch = "amd64"
 *
 * Image extensions (`extension = { uri }`) and Windows packages are refused with UNSUPPORTED.
 */
import { CairnError } from '../oci/errors.js';
import { readTarget, type TargetConfig } from './builder-toml.js';
import { StrictTable } from './strict-toml.js';

export interface PackageConfig {
  /** URI of the entry buildpack. */
  buildpack: string;
  /** URIs of the dependencies (`uri`, or `image` as `docker://…`). */
  dependencies: string[];
  os: 'linux';
  targets: TargetConfig[];
}

const HINT = 'see docs/builder.md for the package.toml format (pack\'s)';

/** The config used when no package.toml is given: the buildpack in the current folder. */
export const DEFAULT_PACKAGE_CONFIG: PackageConfig = { buildpack: '.', dependencies: [], os: 'linux', targets: [] };

export function parsePackageToml(text: string, file = 'package.toml'): PackageConfig {
  const root = StrictTable.parse(text, file, HINT).allow(['buildpack', 'extension', 'dependencies', 'platform', 'targets']);
  const extension = root.table('extension')?.allow(['uri']);
  if (extension) throw new CairnError('UNSUPPORTED', `${file}: extension: image extensions are not supported by cairn`, { hint: `package a buildpack (buildpack = { uri = "…" })` });
  const bp = root.table('buildpack')?.allow(['uri']);
  if (!bp) return root.fail('buildpack', 'is required', 'add buildpack = { uri = "." } (the folder of the buildpack to package)');
  const buildpack = bp.requiredString('uri');
  const dependencies = root.tables('dependencies').map((d) => {
    d.allow(['uri', 'image']);
    const uri = d.string('uri');
    const image = d.string('image');
    if (uri && image) d.fail('image', 'and uri are both given', 'give one of them');
    if (!uri && !image) d.fail('uri', 'is required (or image)');
    return uri ?? `docker://${image!}`;
  });
  const os = root.table('platform')?.allow(['os']).string('os') ?? 'linux';
  if (os === 'windows') throw new CairnError('UNSUPPORTED', `${file}: platform.os: Windows buildpackages are not supported by cairn`, { hint: 'package for linux' });
  if (os !== 'linux') root.fail('platform.os', `must be linux or windows, not "${os}"`);
  const targets = root.tables('targets').map(readTarget);
  for (const [i, t] of targets.entries()) {
    if (t.os !== 'linux') root.fail(`targets[${i}].os`, `"${t.os}" is not supported (cairn packages linux buildpacks)`);
  }
  return { buildpack, dependencies, os: 'linux', targets };
}
