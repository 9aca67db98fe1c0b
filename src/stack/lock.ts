/**
 * `stack.lock`: the exact package set of each image of a stack — name, version, architecture, the suite it
 * came from, pool file name, sha256 and size — plus the snapshot of each suite it was resolved against
 * (Release date and index hashes) and the inputs of that resolution. With a lock, `stack create` needs no
 * index at all: it downloads each .deb by file name and checks its sha256, so the same lock gives the
 * same packages on any machine. The lock is written by `formatStackLock` only: packages sorted by name,
 * fixed key order, no timestamps of its own; the same lock value always serialises to the same bytes.
 */
import { parse as parseToml } from 'smol-toml';
import { CairnError, messageOf } from '../oci/errors.js';
import type { StackConfig } from './config.js';
import type { SuiteSnapshot } from './debian/package-index.js';

export const LOCK_VERSION = 1;

export interface LockedPackage {
  name: string;
  version: string;
  arch: string;
  /** Suite the package comes from (bookworm, bookworm-security, …); the stack's mirrors give its URL. */
  suite: string;
  filename: string;
  sha256: string;
  size: number;
}

export interface LockedImage {
  /** The packages stack.toml asked for, and those it excluded (the resolution's inputs). */
  requested: string[];
  exclude: string[];
  essential: boolean;
  packages: LockedPackage[];
}

export interface StackLock {
  distro: 'debian';
  suite: string;
  arch: string;
  components: string[];
  updates: boolean;
  security: boolean;
  sources: SuiteSnapshot[];
  build: LockedImage;
  run: LockedImage;
}

/** Serialises a lock (deterministically). */
export function formatStackLock(lock: StackLock): string {
  const s = (v: string): string => JSON.stringify(v);
  const list = (vs: readonly string[]): string => `[${vs.map(s).join(', ')}]`;
  const out: string[] = [
    '# stack.lock: the exact packages of this stack, written by `cairn stack create`. Do not edit;',
    '# refresh it with `cairn stack create --update`.',
    `lock-version = ${LOCK_VERSION}`,
    `distro = ${s(lock.distro)}`,
    `suite = ${s(lock.suite)}`,
    `arch = ${s(lock.arch)}`,
    `components = ${list(lock.components)}`,
    `updates = ${lock.updates}`,
    `security = ${lock.security}`,
  ];
  for (const src of lock.sources) {
    out.push('', '[[sources]]', `suite = ${s(src.suite)}`, `mirror = ${s(src.mirror)}`, `date = ${s(src.date)}`);
    out.push(`indexes = { ${Object.keys(src.indexes).sort().map((k) => `${s(k)} = ${s(src.indexes[k]!)}`).join(', ')} }`);
  }
  for (const image of ['build', 'run'] as const) {
    const img = lock[image];
    out.push('', `[${image}]`, `requested = ${list(img.requested)}`, `exclude = ${list(img.exclude)}`, `essential = ${img.essential}`);
    for (const p of [...img.packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      out.push(
        '',
        `[[${image}.packages]]`,
        `name = ${s(p.name)}`,
        `version = ${s(p.version)}`,
        `arch = ${s(p.arch)}`,
        `suite = ${s(p.suite)}`,
        `filename = ${s(p.filename)}`,
        `sha256 = ${s(p.sha256)}`,
        `size = ${p.size}`,
      );
    }
  }
  return out.join('\n') + '\n';
}

/** Parses a lock file; `what` names it in errors. Throws INVALID_ARGUMENT. */
export function parseStackLock(text: string, what: string): StackLock {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw badLock(what, `is not valid TOML: ${messageOf(e)}`);
  }
  if (doc['lock-version'] !== LOCK_VERSION) throw badLock(what, `has lock-version ${String(doc['lock-version'])}, cairn reads ${LOCK_VERSION}`);
  const str = (t: Record<string, unknown>, k: string, where: string): string => {
    const v = t[k];
    if (typeof v !== 'string' || v === '') throw badLock(what, `${where}${k} is missing or not a string`);
    return v;
  };
  const bool = (t: Record<string, unknown>, k: string, where: string): boolean => {
    const v = t[k];
    if (typeof v !== 'boolean') throw badLock(what, `${where}${k} is missing or not a boolean`);
    return v;
  };
  const strs = (t: Record<string, unknown>, k: string, where: string): string[] => {
    const v = t[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badLock(what, `${where}${k} is missing or not a list of strings`);
    return v as string[];
  };
  const tables = (v: unknown, where: string): Record<string, unknown>[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) throw badLock(what, `${where} is not an array of tables`);
    return v as Record<string, unknown>[];
  };
  const distro = str(doc, 'distro', '');
  if (distro !== 'debian') throw badLock(what, `distro "${distro}" is not supported`);
  const sources = tables(doc.sources, 'sources').map((t, i) => {
    const idx = t.indexes;
    if (typeof idx !== 'object' || idx === null || Object.values(idx).some((x) => typeof x !== 'string')) throw badLock(what, `sources[${i}].indexes is not a table of strings`);
    return { suite: str(t, 'suite', `sources[${i}].`), mirror: str(t, 'mirror', `sources[${i}].`), date: str(t, 'date', `sources[${i}].`), indexes: { ...(idx as Record<string, string>) } };
  });
  const image = (name: 'build' | 'run'): LockedImage => {
    const t = doc[name];
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw badLock(what, `[${name}] is missing`);
    const tt = t as Record<string, unknown>;
    return {
      requested: strs(tt, 'requested', `${name}.`),
      exclude: strs(tt, 'exclude', `${name}.`),
      essential: bool(tt, 'essential', `${name}.`),
      packages: tables(tt.packages, `${name}.packages`).map((p, i) => {
        const where = `${name}.packages[${i}].`;
        const size = p.size;
        if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw badLock(what, `${where}size is missing or not an integer`);
        const sha = str(p, 'sha256', where);
        if (!/^[0-9a-f]{64}$/.test(sha)) throw badLock(what, `${where}sha256 "${sha}" is not 64 hex characters`);
        const filename = str(p, 'filename', where);
        if (filename.startsWith('/') || filename.split('/').includes('..')) throw badLock(what, `${where}filename "${filename}" is not a pool path`);
        return { name: str(p, 'name', where), version: str(p, 'version', where), arch: str(p, 'arch', where), suite: str(p, 'suite', where), filename, sha256: sha, size };
      }),
    };
  };
  return {
    distro: 'debian',
    suite: str(doc, 'suite', ''),
    arch: str(doc, 'arch', ''),
    components: strs(doc, 'components', ''),
    updates: bool(doc, 'updates', ''),
    security: bool(doc, 'security', ''),
    sources,
    build: image('build'),
    run: image('run'),
  };
}

/**
 * What differs between the lock's inputs and stack.toml (empty when the lock still applies). Mirrors and
 * everything not affecting resolution (user, files, labels) are not compared.
 */
export function lockDrift(lock: StackLock, config: StackConfig): string[] {
  const out: string[] = [];
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  if (lock.suite !== config.suite) out.push(`suite (${lock.suite} → ${config.suite})`);
  if (lock.arch !== config.arch) out.push(`arch (${lock.arch} → ${config.arch})`);
  if (!same(lock.components, config.components)) out.push('components');
  if (lock.updates !== config.updates) out.push('updates');
  if (lock.security !== config.security) out.push('security');
  for (const image of ['build', 'run'] as const) {
    if (!same(lock[image].requested, config[image].packages)) out.push(`${image}.packages`);
    if (!same(lock[image].exclude, config[image].exclude)) out.push(`${image}.exclude`);
    if (lock[image].essential !== config[image].essential) out.push(`${image}.essential`);
  }
  return out;
}

function badLock(what: string, message: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', `${what} ${message}`, { hint: 'regenerate it with `cairn stack create --update`' });
}
