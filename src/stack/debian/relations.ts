/**
 * Package relationship fields (Debian Policy §7.1): `Depends: a (>= 1.0) | b, c:any`. A field is a
 * comma-separated list of OR-groups; each alternative names a package, optionally with an architecture
 * qualifier (`:any`, `:native`, `:<arch>`) and one version constraint. The binary index never carries
 * `[arch]` restrictions or `<profile>` lists (those belong to source packages), so they are rejected.
 */
import { CairnError } from '../../oci/errors.js';
import type { VersionOp } from './version.js';

export interface Relation {
  name: string;
  /** Architecture qualifier without the colon (`any`, `native`, `arm64`), if any. */
  archQualifier?: string;
  constraint?: { op: VersionOp; version: string };
}

/** An OR-group: satisfied when any alternative is. */
export type Alternatives = Relation[];

const RELATION_RE = /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^\s)]+)\s*\))?$/;

/** Parses a relationship field; `what` (e.g. "Depends of libc6 2.36-9") names it in errors. */
export function parseRelations(field: string | undefined, what: string): Alternatives[] {
  if (field === undefined || field.trim() === '') return [];
  return field
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '')
    .map((group) => group.split('|').map((alt) => parseRelation(alt.trim().replace(/\s+/g, ' '), what)));
}

function parseRelation(text: string, what: string): Relation {
  const m = RELATION_RE.exec(text);
  if (!m) {
    throw new CairnError('INVALID_ARCHIVE', `${what}: cannot parse relation "${text}"`, {
      hint: 'the package index is malformed; try again later or use another mirror',
    });
  }
  const [, name, arch, rawOp, version] = m;
  const rel: Relation = { name: name! };
  if (arch !== undefined) rel.archQualifier = arch;
  if (rawOp !== undefined) {
    // `<` and `>` are obsolete spellings of `<=` and `>=` (Policy §7.1).
    const op = rawOp === '<' ? '<=' : rawOp === '>' ? '>=' : (rawOp as VersionOp);
    rel.constraint = { op, version: version! };
  }
  return rel;
}

/** Renders a relation the way Debian writes it: `libc6 (>= 2.36)`. */
export function formatRelation(r: Relation): string {
  const arch = r.archQualifier ? `:${r.archQualifier}` : '';
  return r.constraint ? `${r.name}${arch} (${r.constraint.op} ${r.constraint.version})` : `${r.name}${arch}`;
}
