/**
 * Which Node.js version the app asks for, and where it says so. Precedence (as Paketo's node-engine):
 * `BP_NODE_VERSION`, then package.json `engines.node`, then `.nvmrc`, then `.node-version`, then the
 * current LTS line. The first source present wins; the others are reported when they disagree.
 *
 * Accepted spellings: any semver range (`16`, `^18.2`, `>=20 <23`, `16.x`, `v16.20.2`), `lts/*`,
 * `lts/<codename>`, `lts/-N` (N lines before the newest LTS), `node`/`stable`/`latest`/`current`
 * (newest release). `.nvmrc` and `.node-version` use their first line that is not blank or a `#` comment.
 */
import semver from 'semver';
import { BuildpackError } from '../sdk/index.js';

export type NodeRequest =
  | { kind: 'range'; range: string }
  | { kind: 'lts'; codename?: string; back?: number }
  | { kind: 'latest' };

export type VersionSource = 'BP_NODE_VERSION' | 'package.json engines.node' | '.nvmrc' | '.node-version' | 'default';

export interface VersionRequest {
  request: NodeRequest;
  source: VersionSource;
  /** As written. */
  raw: string;
}

export interface VersionInputs {
  bpNodeVersion?: string | undefined;
  /** package.json's `engines.node`, when package.json has one. */
  enginesNode?: unknown;
  nvmrc?: string | undefined;
  nodeVersionFile?: string | undefined;
}

/** The first meaningful line of a version file (comments after `#` dropped). */
export function versionFileValue(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const v = line.replace(/#.*$/, '').trim();
    if (v) return v;
  }
  return undefined;
}

/** Parses one spelling; undefined when it is not a version, range or alias. */
export function parseNodeRequest(raw: string): NodeRequest | undefined {
  const v = raw.trim();
  const lower = v.toLowerCase();
  if (['node', 'stable', 'latest', 'current'].includes(lower)) return { kind: 'latest' };
  if (lower === 'lts' || lower === 'lts/*') return { kind: 'lts' };
  const back = /^lts\/-(\d+)$/.exec(lower);
  if (back) return { kind: 'lts', back: Number(back[1]) };
  const code = /^lts\/([a-z]+)$/.exec(lower);
  if (code) return { kind: 'lts', codename: code[1]! };
  const range = semver.validRange(v.replace(/(^|\s|[<>=~^])v(?=\d)/g, '$1'), { loose: true });
  return range === null ? undefined : { kind: 'range', range };
}

function parseFrom(raw: string, source: VersionSource, file: string): VersionRequest {
  const request = parseNodeRequest(raw);
  if (!request) {
    throw new BuildpackError(`${file} asks for Node.js ${JSON.stringify(raw)}, which is not a version, a semver range or an alias`, {
      hint: 'write a version or range such as "20", "^18.17", ">=20 <23", or "lts/*"',
    });
  }
  return { request, source, raw: raw.trim() };
}

/** The request, by precedence; `ignored` lists lower-precedence sources that were present too. */
export function nodeVersionRequest(inputs: VersionInputs): VersionRequest & { ignored: { source: VersionSource; raw: string }[] } {
  const found: { source: VersionSource; raw: string; file: string }[] = [];
  if (inputs.bpNodeVersion?.trim()) found.push({ source: 'BP_NODE_VERSION', raw: inputs.bpNodeVersion, file: 'BP_NODE_VERSION' });
  if (inputs.enginesNode !== undefined) {
    if (typeof inputs.enginesNode !== 'string' || !inputs.enginesNode.trim()) {
      throw new BuildpackError(`package.json "engines.node" must be a non-empty string, not ${JSON.stringify(inputs.enginesNode)}`, { hint: 'write e.g. "engines": { "node": "20" }' });
    }
    found.push({ source: 'package.json engines.node', raw: inputs.enginesNode, file: 'package.json "engines.node"' });
  }
  const nvm = inputs.nvmrc === undefined ? undefined : versionFileValue(inputs.nvmrc);
  if (nvm) found.push({ source: '.nvmrc', raw: nvm, file: '.nvmrc' });
  const nv = inputs.nodeVersionFile === undefined ? undefined : versionFileValue(inputs.nodeVersionFile);
  if (nv) found.push({ source: '.node-version', raw: nv, file: '.node-version' });
  const first = found[0];
  if (!first) return { request: { kind: 'lts' }, source: 'default', raw: 'lts/*', ignored: [] };
  return { ...parseFrom(first.raw, first.source, first.file), ignored: found.slice(1).map(({ source, raw }) => ({ source, raw: raw.trim() })) };
}
