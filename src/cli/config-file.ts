/**
 * cairn's user configuration (`cairn config`), pack's config.toml keys in cairn's home: `$CAIRN_HOME/config.toml`
 * (pack keeps its own in `$PACK_HOME`). Read strictly (an unknown key is an error naming it); written atomically.
 *
 *   default-builder-image = "cairn/builder:bookworm"
 *   pull-policy = "if-not-present"
 *   [registry-mirrors]
 *   "docker.io" = "mirror.example.com"        # reads from docker.io go to the mirror ("*": every registry)
 *   [[run-images]]
 *   image = "cairn/run:tiny"
 *   mirrors = ["registry.example.com/cairn/run:tiny"]
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { StrictTable } from '../builder/strict-toml.js';
import { writeFileAtomic } from '../oci/atomic-file.js';
import { CairnError, messageOf } from '../oci/errors.js';
import { cairnHome } from '../oci/store/local.js';
import { PULL_POLICIES, type PullPolicy } from './pull-policy.js';

export interface CairnConfig {
  defaultBuilder?: string;
  pullPolicy?: PullPolicy;
  /** Registry host (or `*`) → mirror host. */
  registryMirrors: Record<string, string>;
  runImageMirrors: { image: string; mirrors: string[] }[];
}

const HINT = 'edit it with `cairn config`, or remove it';

export function configPath(env: Record<string, string | undefined>): string {
  return join(cairnHome(env), 'config.toml');
}

export async function readConfig(env: Record<string, string | undefined>): Promise<CairnConfig> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { registryMirrors: {}, runImageMirrors: [] };
    throw new CairnError('IO', `cannot read ${path}: ${messageOf(e)}`, { cause: e, hint: 'check its permissions' });
  }
  const root = StrictTable.parse(text, path, HINT).allow(['default-builder-image', 'pull-policy', 'registry-mirrors', 'run-images']);
  const pull = root.string('pull-policy');
  if (pull !== undefined && !(PULL_POLICIES as readonly string[]).includes(pull)) root.fail('pull-policy', `must be one of ${PULL_POLICIES.join(', ')}, not "${pull}"`);
  const mirrors = root.table('registry-mirrors');
  const registryMirrors: Record<string, string> = {};
  if (mirrors) for (const host of Object.keys(mirrors.raw)) registryMirrors[host] = mirrors.requiredString(host);
  const builder = root.string('default-builder-image');
  return {
    ...(builder ? { defaultBuilder: builder } : {}),
    ...(pull ? { pullPolicy: pull as PullPolicy } : {}),
    registryMirrors,
    runImageMirrors: root.tables('run-images').map((t) => {
      t.allow(['image', 'mirrors']);
      return { image: t.requiredString('image'), mirrors: t.strings('mirrors') ?? [] };
    }),
  };
}

export async function writeConfig(env: Record<string, string | undefined>, c: CairnConfig): Promise<void> {
  const doc: Record<string, unknown> = {};
  if (c.defaultBuilder) doc['default-builder-image'] = c.defaultBuilder;
  if (c.pullPolicy) doc['pull-policy'] = c.pullPolicy;
  if (Object.keys(c.registryMirrors).length > 0) doc['registry-mirrors'] = c.registryMirrors;
  if (c.runImageMirrors.length > 0) doc['run-images'] = c.runImageMirrors;
  await mkdir(cairnHome(env), { recursive: true });
  await writeFileAtomic(configPath(env), stringify(doc) + '\n');
}
