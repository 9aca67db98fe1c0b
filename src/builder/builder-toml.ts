/**
 * builder.toml in pack's format (digest §7.2; pack `builder/config_reader.go`), read strictly: unknown keys
 * are errors, as in pack. Both forms of the images are accepted and merged as pack merges them
 * (RFC 0096): `[build] image` + `[[run.images]]`, or the older `[stack] build-image`, `run-image`,
 * `run-image-mirrors`; when both are given they must agree. `[[build.env]]` entries become the files of
 * `/cnb/build-config/env/` (`NAME`, `NAME.<suffix>`, `NAME.delim`).
 *
 * What cairn does not do is refused by name rather than ignored: image extensions (`[[extensions]]`,
 * `[[order-extensions]]`) and per-exec-env build env. `[lifecycle]` is read but cairn always ships its own
 * lifecycle (the caller warns when a version or URI is asked for).
 */
import { CairnError } from '../oci/errors.js';
import { checkBuildpackId, checkBuildpackVersion } from '../lifecycle/ids.js';
import { StrictTable } from './strict-toml.js';

export interface ModuleConfig {
  /** Where the buildpack comes from: a folder, a `.cnb`/`.tgz` file, `docker://REF`, an image ref, `urn:cnb:builder:ID[@VERSION]`. */
  uri?: string;
  /** An image reference (pack's `image = "…"`, same as `uri = "docker://…"`). */
  image?: string;
  id?: string;
  version?: string;
}

export interface OrderEntryConfig {
  id: string;
  /** Optional in builder.toml: resolved against the builder's buildpacks (an error when ambiguous). */
  version?: string;
  optional: boolean;
}

export interface RunImageConfig {
  image: string;
  mirrors: string[];
}

export interface BuildEnvFile {
  /** File name under /cnb/build-config/env/. */
  name: string;
  value: string;
}

export interface TargetConfig {
  os: string;
  arch?: string;
  variant?: string;
  distros: { name: string; version?: string }[];
}

export interface BuilderConfig {
  description: string;
  buildpacks: ModuleConfig[];
  order: { group: OrderEntryConfig[] }[];
  system: { pre: OrderEntryConfig[]; post: OrderEntryConfig[] };
  /** `[stack] id`, checked against the build image's `io.buildpacks.stack.id` when both are set. */
  stackId?: string;
  buildImage: string;
  runImages: RunImageConfig[];
  buildEnv: BuildEnvFile[];
  lifecycle: { uri?: string; version?: string };
  targets: TargetConfig[];
}

const HINT = 'see docs/builder.md for the builder.toml format (pack\'s)';
const SUFFIXES = ['default', 'override', 'append', 'prepend'];

export function parseBuilderToml(text: string, file = 'builder.toml'): BuilderConfig {
  const root = StrictTable.parse(text, file, HINT).allow(['description', 'buildpacks', 'extensions', 'order', 'order-extensions', 'system', 'stack', 'lifecycle', 'run', 'build', 'targets']);
  const description = root.string('description') ?? '';
  const buildpacks = root.tables('buildpacks').map(readModule);
  const extensions = root.tables('extensions');
  extensions.forEach(readModule);
  if (extensions.length > 0) unsupported(file, 'extensions', 'image extensions are not supported by cairn');
  const order = root.tables('order').map((g) => ({ group: g.allow(['group']).tables('group').map(readOrderEntry) }));
  const orderExtensions = root.tables('order-extensions');
  orderExtensions.forEach((g) => g.allow(['group']).tables('group').forEach(readOrderEntry));
  if (orderExtensions.length > 0) unsupported(file, 'order-extensions', 'image extensions are not supported by cairn');
  order.forEach((g, i) => {
    if (g.group.length === 0) root.fail(`order[${i}].group`, 'must list at least one buildpack');
  });

  const system = root.table('system')?.allow(['pre', 'post']);
  const systemList = (key: 'pre' | 'post'): OrderEntryConfig[] => system?.table(key)?.allow(['buildpacks']).tables('buildpacks').map(readOrderEntry) ?? [];
  const systemConfig = { pre: systemList('pre'), post: systemList('post') };

  const stack = root.table('stack')?.allow(['id', 'build-image', 'run-image', 'run-image-mirrors']);
  const stackId = stack?.string('id');
  const stackBuild = stack?.string('build-image');
  const stackRun = stack?.string('run-image');
  const stackMirrors = stack?.strings('run-image-mirrors') ?? [];

  const lifecycle = root.table('lifecycle')?.allow(['uri', 'version']);
  const lifecycleConfig = { uri: lifecycle?.string('uri'), version: lifecycle?.string('version') };

  const run = root.table('run')?.allow(['images']);
  const runImages = (run?.tables('images') ?? []).map((t) => {
    t.allow(['image', 'mirrors']);
    const image = t.requiredString('image');
    return { image, mirrors: t.strings('mirrors') ?? [] };
  });

  const build = root.table('build')?.allow(['image', 'env']);
  const buildImage = build?.string('image');
  const buildEnv = readBuildEnv(build?.tables('env') ?? []);
  const targets = root.tables('targets').map(readTarget);

  // pack's mergeStackWithImages + ValidateConfig.
  if (buildImage && stackBuild && buildImage !== stackBuild) root.fail('build.image', `("${buildImage}") and stack.build-image ("${stackBuild}") do not match`, 'give the build image once, in [build] image');
  const image = buildImage || stackBuild;
  if (!image) return root.fail('build.image', 'is required', 'name the build image in [build] image = "REF" (e.g. made by `cairn stack create`)');
  if (runImages.length > 0 && stackRun && runImages[0]!.image !== stackRun) {
    root.fail('run.images', `do not match stack.run-image ("${stackRun}")`, 'give the run image once, in [[run.images]]');
  }
  const runs = runImages.length > 0 ? runImages : stackRun ? [{ image: stackRun, mirrors: stackMirrors }] : [];
  if (runs.length === 0) return root.fail('run.images', 'are required', 'name the run image in [[run.images]] image = "REF"');

  return {
    description,
    buildpacks,
    order,
    system: systemConfig,
    ...(stackId ? { stackId } : {}),
    buildImage: image,
    runImages: runs,
    buildEnv,
    lifecycle: Object.fromEntries(Object.entries(lifecycleConfig).filter(([, v]) => v !== undefined)),
    targets,
  };
}

const MODULE_INFO_KEYS = ['id', 'version', 'name', 'description', 'homepage', 'keywords', 'exec-env', 'licenses', 'clear-env'];

/** pack's ModuleInfo + ImageOrURI keys; the descriptive ones are accepted and not used. */
export function readModule(t: StrictTable): ModuleConfig {
  t.allow([...MODULE_INFO_KEYS, 'uri', 'image']);
  const m: ModuleConfig = {};
  const uri = t.string('uri');
  const image = t.string('image');
  const id = t.string('id');
  const version = t.string('version');
  for (const k of ['name', 'description', 'homepage']) t.string(k);
  for (const k of ['keywords', 'exec-env']) t.strings(k);
  t.boolean('clear-env');
  t.tables('licenses').forEach((l) => l.allow(['type', 'uri']));
  if (uri && image) t.fail('image', 'and uri are both given', 'give one of them');
  if (!uri && !image && !id) t.fail('uri', 'is required (or image, or id for a buildpack already in the builder)');
  if (id !== undefined) checkId(t, id);
  if (version !== undefined) checkVersion(t, version);
  if (uri) m.uri = uri;
  if (image) m.image = image;
  if (id) m.id = id;
  if (version) m.version = version;
  return m;
}

function readOrderEntry(t: StrictTable): OrderEntryConfig {
  t.allow([...MODULE_INFO_KEYS, 'optional']);
  const id = t.requiredString('id');
  checkId(t, id);
  const version = t.string('version');
  if (version !== undefined && version !== '') checkVersion(t, version);
  for (const k of ['name', 'description', 'homepage']) t.string(k);
  t.strings('keywords');
  t.boolean('clear-env');
  t.tables('licenses').forEach((l) => l.allow(['type', 'uri']));
  const execEnv = t.strings('exec-env') ?? [];
  if (execEnv.length > 0) unsupported(t.file, t.keyPath('exec-env'), 'exec-env in builder order groups is not supported by cairn');
  return { id, ...(version ? { version } : {}), optional: t.boolean('optional') ?? false };
}

function readBuildEnv(entries: StrictTable[]): BuildEnvFile[] {
  const files = new Map<string, string>();
  for (const t of entries) {
    t.allow(['name', 'value', 'suffix', 'delim', 'exec-env']);
    const name = t.requiredString('name');
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) t.fail('name', `"${name}" is not a valid environment variable name`);
    const value = t.string('value') ?? '';
    const suffix = t.string('suffix') ?? '';
    const delim = t.string('delim');
    const execEnv = t.strings('exec-env') ?? [];
    if (suffix !== '' && !SUFFIXES.includes(suffix)) t.fail('suffix', `"${suffix}" is not one of ${SUFFIXES.join(', ')}`);
    if ((suffix === 'append' || suffix === 'prepend') && !delim) t.fail('delim', `is required with suffix "${suffix}"`);
    if (execEnv.length > 0) unsupported(t.file, t.keyPath('exec-env'), 'exec-env in [[build.env]] is not supported by cairn');
    files.set(suffix ? `${name}.${suffix}` : name, value);
    if (delim) files.set(`${name}.delim`, delim);
  }
  return [...files].map(([name, value]) => ({ name, value }));
}

export function readTarget(t: StrictTable): TargetConfig {
  t.allow(['os', 'arch', 'variant', 'distros']);
  const arch = t.string('arch');
  const variant = t.string('variant');
  return {
    os: t.string('os') ?? 'linux',
    ...(arch ? { arch } : {}),
    ...(variant ? { variant } : {}),
    distros: t.tables('distros').map((d) => {
      d.allow(['name', 'version']);
      const version = d.string('version');
      return { name: d.requiredString('name'), ...(version ? { version } : {}) };
    }),
  };
}

function checkId(t: StrictTable, id: string): void {
  const why = checkBuildpackId(id);
  if (why) t.fail('id', `"${id}" is not a valid buildpack id (${why})`);
}

function checkVersion(t: StrictTable, version: string): void {
  const why = checkBuildpackVersion(version);
  if (why) t.fail('version', `"${version}" is not a valid buildpack version (it ${why})`);
}

function unsupported(file: string, key: string, why: string): never {
  throw new CairnError('UNSUPPORTED', `${file}: ${key}: ${why}`, { hint: `remove ${key} from ${file}` });
}
