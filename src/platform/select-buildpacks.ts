/**
 * pack's `cairn build --buildpack` (repeatable) → the buildpacks folder and the order of one build. Each value is
 * one of:
 * - `ID` or `ID@VERSION`, or `urn:cnb:builder:ID[@VERSION]`: a buildpack the builder carries (the version may be
 *   left out when the builder has one version of it);
 * - a buildpack folder, a `.tgz` of one, a `.cnb` buildpackage, or a buildpackage image (any cairn reference):
 *   loaded through `load` and added to this build only;
 * - `from=builder`: the builder's own order, with the other values before and after it placed around every
 *   group (pack's meaning).
 * Without `from=builder` the order is one group of the given buildpacks, in the given order, none optional
 * (as pack). The builder's image and its root filesystem are never changed: when something is added, the
 * builder's buildpacks are copied with the new ones into `<workDir>/cnb/buildpacks`, a folder of this build.
 */
import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CairnError } from '../oci/errors.js';
import { extractLayer } from '../oci/layer/extract.js';
import type { LoadedSource } from '../builder/buildpack-source.js';
import type { ModuleRef, OrderGroup } from '../lifecycle/files/module-ref.js';
import { checkBuildpackId, escapeId } from '../lifecycle/ids.js';

export const FROM_BUILDER = 'from=builder';
const BUILDER_URN = 'urn:cnb:builder:';

export interface SelectBuildpacksInput {
  /** The `--buildpack` values, in order (at least one). */
  refs: string[];
  builderOrder: OrderGroup[];
  /** The builder's `/cnb/buildpacks`, on the host. */
  builderBuildpacks: string;
  /** Where an assembled buildpacks folder goes. */
  workDir: string;
  /** Folder relative paths are taken from. */
  baseDir: string;
  /** Loads a folder, archive or image (src/builder/buildpack-source.ts). */
  load: (uri: string) => Promise<LoadedSource>;
}

export interface SelectedBuildpacks {
  /** The host folder to use as `/cnb/buildpacks`: the builder's own when nothing was added. */
  buildpacksDir: string;
  order: OrderGroup[];
}

export async function selectBuildpacks(input: SelectBuildpacksInput): Promise<SelectedBuildpacks> {
  const before: ModuleRef[] = [];
  const after: ModuleRef[] = [];
  const added: LoadedSource[] = [];
  let fromBuilder = false;
  for (const value of input.refs) {
    if (value === FROM_BUILDER) {
      if (fromBuilder) throw new CairnError('INVALID_ARGUMENT', `--buildpack ${FROM_BUILDER} is given twice`, { hint: 'name it once, between the buildpacks to run before and after the builder\'s' });
      fromBuilder = true;
      continue;
    }
    const ref = await inBuilder(value, input) ?? (await loaded(value, input, added));
    (fromBuilder ? after : before).push(ref);
  }
  const order: OrderGroup[] = fromBuilder
    ? input.builderOrder.map((g) => ({ group: [...before, ...g.group, ...after] }))
    : [{ group: before }];
  if (added.length === 0) return { buildpacksDir: input.builderBuildpacks, order };

  const dir = join(input.workDir, 'cnb', 'buildpacks');
  await mkdir(dir, { recursive: true });
  await cp(input.builderBuildpacks, dir, { recursive: true, verbatimSymlinks: true });
  for (const source of added) {
    for (const m of source.modules) {
      // Each module's layer holds cnb/buildpacks/<escaped id>/<version>/… (src/builder/buildpack-layer.ts).
      await extractLayer(await m.layer.compressed(), input.workDir, { stripSetid: true, devices: 'error', fifos: 'skip' });
    }
  }
  return { buildpacksDir: dir, order };
}

async function loaded(value: string, input: SelectBuildpacksInput, added: LoadedSource[]): Promise<ModuleRef> {
  const source = await input.load(value);
  added.push(source);
  return ref(source.entry.id, source.entry.version);
}

/** The builder's buildpack `value` names, or undefined when it names none (then it is a path or an image). */
async function inBuilder(value: string, input: SelectBuildpacksInput): Promise<ModuleRef | undefined> {
  const urn = value.startsWith(BUILDER_URN);
  const text = urn ? value.slice(BUILDER_URN.length) : value;
  const at = text.lastIndexOf('@');
  const id = at > 0 ? text.slice(0, at) : text;
  const version = at > 0 ? text.slice(at + 1) : undefined;
  if (checkBuildpackId(id) !== undefined || (!urn && await isPath(value, input.baseDir))) {
    if (urn) throw new CairnError('INVALID_ARGUMENT', `--buildpack ${value}: "${id}" is not a buildpack ID`, { hint: 'write urn:cnb:builder:ID[@VERSION]' });
    return undefined;
  }
  const versions = await readdir(join(input.builderBuildpacks, escapeId(id))).catch(() => [] as string[]);
  if (versions.length === 0) {
    if (urn) throw new CairnError('NOT_FOUND', `--buildpack ${value}: the builder has no buildpack ${id}`, { hint: '`cairn builder inspect` lists the builder\'s buildpacks' });
    return undefined;
  }
  if (version !== undefined) {
    if (!versions.includes(version)) {
      throw new CairnError('NOT_FOUND', `--buildpack ${value}: the builder has ${id} in version${versions.length > 1 ? 's' : ''} ${versions.sort().join(', ')}, not ${version}`, { hint: `name one of those versions, or leave the version out` });
    }
    return ref(id, version);
  }
  if (versions.length > 1) {
    throw new CairnError('INVALID_ARGUMENT', `--buildpack ${value}: the builder has ${id} in versions ${versions.sort().join(', ')}`, { hint: `name one: --buildpack ${id}@${versions[0]}` });
  }
  return ref(id, versions[0]!);
}

function ref(id: string, version: string): ModuleRef {
  return { id, version, optional: false, execEnv: [] };
}

async function isPath(value: string, baseDir: string): Promise<boolean> {
  return value.startsWith('.') || value.startsWith('/') || value.startsWith('file://') || (await stat(resolve(baseDir, value)).then(() => true, () => false));
}
