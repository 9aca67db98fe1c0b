/**
 * `stack.toml`: the definition of a stack (a build image and a run image composed from Debian packages).
 * The format is cairn's own and documented in docs/stack-toml.md. `parseStackConfig` checks everything it
 * can without the network — known suite and architecture, well-formed package names, file entries, user
 * ids — and rejects unknown keys by name, so a typo never silently changes an image.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { CairnError, messageOf } from '../oci/errors.js';
import type { SuiteSource } from './debian/package-index.js';

export const SUITES = ['bullseye', 'bookworm', 'trixie'] as const;
export type Suite = (typeof SUITES)[number];
export const ARCHES = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

export interface ExtraFile {
  /** Absolute path in the image. */
  path: string;
  mode: number;
  uid: number;
  gid: number;
  /** Inline content, or … */
  content?: string;
  /** … an absolute path on the host (given relative to stack.toml's folder). */
  source?: string;
}

export interface ImageSpec {
  packages: string[];
  /** Dependencies never installed (a group naming one is taken as satisfied); see resolver.ts. */
  exclude: string[];
  /** Add every `Essential: yes` package of the suite (what a Debian system assumes is present). */
  essential: boolean;
  labels: Record<string, string>;
  files: ExtraFile[];
}

export interface StackUser {
  uid: number;
  gid: number;
  name: string;
  group: string;
  home: string;
  shell: string;
}

export interface StackConfig {
  id: string;
  distro: 'debian';
  suite: Suite;
  arch: Arch;
  components: string[];
  /** Include `<suite>-updates`. */
  updates: boolean;
  /** Include `<suite>-security` from the security mirror. */
  security: boolean;
  /** Zone written to /etc/localtime and /etc/timezone when tzdata is installed. */
  timezone: string;
  /** Fail on an expired Release Valid-Until (off: mirrors may serve stale dates; a warning is given). */
  checkValidUntil: boolean;
  mirrors: { debian: string; security: string };
  user: StackUser;
  labels: Record<string, string>;
  build: ImageSpec;
  run: ImageSpec;
}

export const DEFAULT_MIRRORS = { debian: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' };

const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]+$/;
/** Paths cairn writes itself after the extra files; an extra file there would be lost. */
const GENERATED = ['/etc/passwd', '/etc/group', '/etc/ca-certificates.conf', '/etc/localtime', '/etc/timezone'];
const GENERATED_DIRS = ['/etc/ssl/certs/', '/var/lib/dpkg/'];
const USER_RE = /^[a-z_][a-z0-9_-]*$/;
const COMPONENTS = ['main', 'contrib', 'non-free', 'non-free-firmware'];

type Table = Record<string, unknown>;

/**
 * Parses stack.toml text. `what` names the file in errors; `baseDir` resolves relative `source` paths of
 * extra files. Throws INVALID_ARGUMENT naming the offending key.
 */
export function parseStackConfig(text: string, opts: { what: string; baseDir: string }): StackConfig {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    throw bad(opts.what, `is not valid TOML: ${messageOf(e)}`, 'fix the syntax at the line and column given');
  }
  const p = new Reader(opts.what);
  p.keys(doc, '', ['id', 'distro', 'suite', 'arch', 'components', 'updates', 'security', 'timezone', 'check-valid-until', 'mirrors', 'user', 'labels', 'build', 'run']);
  const distro = p.str(doc, 'distro', 'debian');
  if (distro !== 'debian') throw bad(opts.what, `distro "${distro}" is not supported`, 'cairn composes stacks from Debian: set distro = "debian"');
  const suite = p.str(doc, 'suite', 'bookworm');
  if (!(SUITES as readonly string[]).includes(suite)) throw bad(opts.what, `unknown suite "${suite}"`, `use one of ${SUITES.join(', ')}`);
  const arch = p.str(doc, 'arch', 'amd64');
  if (!(ARCHES as readonly string[]).includes(arch)) throw bad(opts.what, `unsupported arch "${arch}"`, `use one of ${ARCHES.join(', ')}`);
  const components = p.strList(doc, 'components', ['main']);
  for (const c of components) if (!COMPONENTS.includes(c)) throw bad(opts.what, `unknown component "${c}" in components`, `use ${COMPONENTS.join(', ')}`);
  if (components.length === 0) throw bad(opts.what, 'components is empty', 'list at least "main"');

  const mirrorsTable = p.table(doc, 'mirrors');
  p.keys(mirrorsTable, 'mirrors.', ['debian', 'security']);
  const mirrors = { debian: p.url(mirrorsTable, 'debian', DEFAULT_MIRRORS.debian, 'mirrors.'), security: p.url(mirrorsTable, 'security', DEFAULT_MIRRORS.security, 'mirrors.') };

  const userTable = p.table(doc, 'user');
  p.keys(userTable, 'user.', ['uid', 'gid', 'name', 'group', 'home', 'shell']);
  const name = p.str(userTable, 'name', 'cnb', 'user.');
  const user: StackUser = {
    uid: p.id(userTable, 'uid', 1000, 'user.'),
    gid: p.id(userTable, 'gid', 1000, 'user.'),
    name,
    group: p.str(userTable, 'group', name, 'user.'),
    home: p.absPath(userTable, 'home', `/home/${name}`, 'user.'),
    shell: p.absPath(userTable, 'shell', '/bin/sh', 'user.'),
  };
  if (!USER_RE.test(user.name)) throw bad(opts.what, `user.name "${user.name}" is not a valid user name`, 'use lowercase letters, digits, _ and -');
  if (!USER_RE.test(user.group)) throw bad(opts.what, `user.group "${user.group}" is not a valid group name`, 'use lowercase letters, digits, _ and -');
  if (user.name === 'root' || user.group === 'root') throw bad(opts.what, 'the CNB user and group cannot be named root', 'pick another name, e.g. cnb');

  const timezone = p.str(doc, 'timezone', 'Etc/UTC');
  if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(timezone)) throw bad(opts.what, `timezone "${timezone}" is not a zone name`, 'use a name such as Etc/UTC or Europe/Paris');

  return {
    id: p.str(doc, 'id', `io.buildpacks.stacks.${suite}`),
    distro: 'debian',
    suite: suite as Suite,
    arch: arch as Arch,
    components,
    updates: p.bool(doc, 'updates', true),
    security: p.bool(doc, 'security', true),
    timezone,
    checkValidUntil: p.bool(doc, 'check-valid-until', false),
    mirrors,
    user,
    labels: p.labels(doc, 'labels', ''),
    build: p.image(doc, 'build', opts.baseDir),
    run: p.image(doc, 'run', opts.baseDir),
  };
}

/** The suites a stack reads, in precedence order for equal versions: main, -updates, -security. */
export function suiteSources(config: StackConfig): SuiteSource[] {
  const out: SuiteSource[] = [{ suite: config.suite, mirror: config.mirrors.debian }];
  if (config.updates) out.push({ suite: `${config.suite}-updates`, mirror: config.mirrors.debian });
  if (config.security) out.push({ suite: `${config.suite}-security`, mirror: config.mirrors.security });
  return out;
}

function bad(what: string, message: string, hint: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', `${what}: ${message}`, { hint });
}

/** Typed access to TOML values with errors naming the full key. */
class Reader {
  constructor(private readonly what: string) {}

  keys(t: Table, prefix: string, allowed: readonly string[]): void {
    for (const k of Object.keys(t)) {
      if (!allowed.includes(k)) throw bad(this.what, `unknown key "${prefix}${k}"`, `known keys here: ${allowed.map((a) => prefix + a).join(', ')}`);
    }
  }

  private type(v: unknown): string {
    return Array.isArray(v) ? 'array' : v instanceof Date ? 'date' : typeof v;
  }

  private wrong(key: string, want: string, v: unknown): CairnError {
    return bad(this.what, `${key} must be ${want}, not ${this.type(v)}`, `see docs/stack-toml.md`);
  }

  table(t: Table, key: string, prefix = ''): Table {
    const v = t[key];
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) throw this.wrong(prefix + key, 'a table', v);
    return v as Table;
  }

  str(t: Table, key: string, dflt: string, prefix = ''): string {
    const v = t[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || v === '') throw this.wrong(prefix + key, 'a non-empty string', v);
    return v;
  }

  bool(t: Table, key: string, dflt: boolean, prefix = ''): boolean {
    const v = t[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw this.wrong(prefix + key, 'true or false', v);
    return v;
  }

  strList(t: Table, key: string, dflt: string[], prefix = ''): string[] {
    const v = t[key];
    if (v === undefined) return [...dflt];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw this.wrong(prefix + key, 'an array of strings', v);
    return v as string[];
  }

  url(t: Table, key: string, dflt: string, prefix: string): string {
    const v = this.str(t, key, dflt, prefix);
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw bad(this.what, `${prefix}${key} "${v}" is not a URL`, 'give the mirror root, e.g. http://deb.debian.org/debian');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(this.what, `${prefix}${key} "${v}" must be an http or https URL`, 'give the mirror root, e.g. http://deb.debian.org/debian');
    return v.replace(/\/+$/, '');
  }

  id(t: Table, key: string, dflt: number, prefix: string): number {
    const v = t[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2147483647) throw bad(this.what, `${prefix}${key} must be an integer from 1 to 2147483647`, 'the CNB user and group are not root; 1000 is usual');
    return v;
  }

  absPath(t: Table, key: string, dflt: string, prefix: string): string {
    const v = this.str(t, key, dflt, prefix);
    if (!v.startsWith('/') || v.split('/').includes('..')) throw bad(this.what, `${prefix}${key} "${v}" must be an absolute path without ".."`, 'e.g. /home/cnb');
    return v;
  }

  labels(t: Table, key: string, prefix: string): Record<string, string> {
    const table = this.table(t, key, prefix);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(table)) {
      if (typeof v !== 'string') throw this.wrong(`${prefix}${key}."${k}"`, 'a string', v);
      out[k] = v;
    }
    return out;
  }

  image(doc: Table, section: 'build' | 'run', baseDir: string): ImageSpec {
    const t = this.table(doc, section);
    this.keys(t, `${section}.`, ['packages', 'exclude', 'essential', 'labels', 'files']);
    const names = (key: string): string[] => {
      const list = this.strList(t, key, [], `${section}.`);
      const seen = new Set<string>();
      for (const name of list) {
        if (!PACKAGE_RE.test(name)) {
          throw bad(this.what, `${section}.${key}: "${name}" is not a valid Debian package name`, 'package names use lowercase letters, digits, +, - and . (Debian Policy §5.6.7); no versions here, the lock pins them');
        }
        if (seen.has(name)) throw bad(this.what, `${section}.${key} lists "${name}" twice`, 'list each package once');
        seen.add(name);
      }
      return list;
    };
    const packages = names('packages');
    const exclude = names('exclude');
    const both = packages.find((p) => exclude.includes(p));
    if (both) throw bad(this.what, `${section}: "${both}" is both in packages and in exclude`, 'remove it from one of the two lists');
    const essential = this.bool(t, 'essential', false, `${section}.`);
    const filesRaw = t.files ?? [];
    if (!Array.isArray(filesRaw)) throw this.wrong(`${section}.files`, 'an array of tables ([[' + section + '.files]])', filesRaw);
    const files = filesRaw.map((f, i) => this.file(f, `${section}.files[${i}].`, baseDir));
    const paths = new Set<string>();
    for (const f of files) {
      if (paths.has(f.path)) throw bad(this.what, `${section}.files gives ${f.path} twice`, 'give each path once');
      paths.add(f.path);
    }
    return { packages, exclude, essential, labels: this.labels(t, 'labels', `${section}.`), files };
  }

  private file(raw: unknown, prefix: string, baseDir: string): ExtraFile {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw this.wrong(prefix.slice(0, -1), 'a table', raw);
    const t = raw as Table;
    this.keys(t, prefix, ['path', 'content', 'source', 'mode', 'uid', 'gid']);
    if (t.path === undefined) throw bad(this.what, `${prefix}path is missing`, 'each extra file needs a path');
    const path = this.absPath(t, 'path', '/', prefix);
    if (path === '/' || path.endsWith('/')) throw bad(this.what, `${prefix}path "${path}" must name a file`, 'e.g. /etc/motd');
    if (GENERATED.includes(path) || GENERATED_DIRS.some((d) => path.startsWith(d))) {
      throw bad(this.what, `${prefix}path ${path} is generated by cairn`, 'set [user] for passwd/group and timezone for the zone; add CA certificates as /usr/local/share/ca-certificates/<name>.crt');
    }
    const hasContent = t.content !== undefined;
    const hasSource = t.source !== undefined;
    if (hasContent === hasSource) throw bad(this.what, `${prefix.slice(0, -1)} needs exactly one of content or source`, 'give the text inline with content, or a file path with source');
    const out: ExtraFile = { path, mode: this.mode(t, prefix), uid: this.owner(t, 'uid', prefix), gid: this.owner(t, 'gid', prefix) };
    if (hasContent) {
      if (typeof t.content !== 'string') throw this.wrong(`${prefix}content`, 'a string', t.content);
      out.content = t.content;
    } else {
      const source = this.str(t, 'source', '', prefix);
      out.source = isAbsolute(source) ? source : resolvePath(baseDir, source);
    }
    return out;
  }

  private mode(t: Table, prefix: string): number {
    const v = t.mode;
    if (v === undefined) return 0o644;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o7777) return v;
    if (typeof v === 'string' && /^0?[0-7]{3,4}$/.test(v)) return parseInt(v, 8);
    throw bad(this.what, `${prefix}mode must be an octal mode such as 0o755 or "0755"`, 'TOML writes octal integers as 0o755');
  }

  private owner(t: Table, key: string, prefix: string): number {
    const v = t[key];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2147483647) throw bad(this.what, `${prefix}${key} must be a non-negative integer`, 'numeric ids only');
    return v;
  }
}
