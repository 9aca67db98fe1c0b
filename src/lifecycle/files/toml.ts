/**
 * Bounded TOML input and deterministic TOML output for every CNB file.
 *
 * Inputs are untrusted (buildpacks write most of these files): a document larger than MAX_TOML_BYTES or
 * nested deeper than MAX_TOML_DEPTH is rejected before or right after parsing, with INVALID_LIFECYCLE_FILE
 * naming the file. Unknown keys are ignored by the typed readers (digest §1).
 */
import { open } from 'node:fs/promises';
import { parse, stringify, TomlError } from 'smol-toml';
import { CairnError } from '../../oci/errors.js';

/** Largest CNB TOML file accepted, in bytes. */
export const MAX_TOML_BYTES = 4 * 1024 * 1024;
/** Deepest nesting of tables/arrays accepted. */
export const MAX_TOML_DEPTH = 64;

export type TomlTable = Record<string, unknown>;

export function invalidFile(file: string, message: string, hint?: string, cause?: unknown): CairnError {
  return new CairnError('INVALID_LIFECYCLE_FILE', `invalid ${file}: ${message}`, {
    hint: hint ?? `fix ${file}; the expected format is in the Cloud Native Buildpacks spec`,
    cause,
  });
}

function depthOf(v: unknown, limit: number): number {
  if (limit < 0) return 0;
  let max = 0;
  if (Array.isArray(v)) {
    for (const x of v) max = Math.max(max, depthOf(x, limit - 1));
    return max + 1;
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    for (const x of Object.values(v)) max = Math.max(max, depthOf(x, limit - 1));
    return max + 1;
  }
  return 0;
}

/** Parses a TOML document, enforcing the size and depth bounds. `file` names it in errors. */
export function parseToml(text: string, file: string): TomlTable {
  if (Buffer.byteLength(text, 'utf8') > MAX_TOML_BYTES) {
    throw invalidFile(file, `larger than ${MAX_TOML_BYTES} bytes`, 'CNB files are small; check what wrote this one');
  }
  let doc: TomlTable;
  try {
    doc = parse(text, { maxDepth: MAX_TOML_DEPTH }) as TomlTable;
  } catch (e) {
    const why = e instanceof TomlError ? e.message.split('\n')[0] : String(e);
    throw invalidFile(file, `not valid TOML: ${why}`, undefined, e);
  }
  assertShallow(doc, file);
  return doc;
}

/** Throws INVALID_LIFECYCLE_FILE when a parsed document nests deeper than MAX_TOML_DEPTH. */
export function assertShallow(doc: unknown, file: string): void {
  if (depthOf(doc, MAX_TOML_DEPTH + 1) > MAX_TOML_DEPTH) {
    throw invalidFile(file, `nested deeper than ${MAX_TOML_DEPTH} levels`, 'CNB files are shallow; check what wrote this one');
  }
}

/**
 * Reads a file of at most `maxBytes` bytes as UTF-8, failing before reading more. Returns undefined when
 * the file does not exist and `optional` is set.
 */
export async function readBoundedFile(path: string, maxBytes: number, optional: true): Promise<string | undefined>;
export async function readBoundedFile(path: string, maxBytes: number, optional?: false): Promise<string>;
export async function readBoundedFile(path: string, maxBytes: number, optional = false): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CairnError('IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw invalidFile(path, 'not a regular file');
    if (st.size > maxBytes) throw invalidFile(path, `larger than ${maxBytes} bytes`, 'CNB files are small; check what wrote this one');
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > maxBytes) throw invalidFile(path, `larger than ${maxBytes} bytes`, 'CNB files are small; check what wrote this one');
      if (n === buf.length) break;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Reads a CNB file with one of the `parse*` functions (errors then name the path), e.g.
 * `await readCnbFile(path, parseGroupToml)`. Undefined when it does not exist and `optional` is set.
 */
export async function readCnbFile<T>(path: string, parse: (text: string, file: string) => T, optional: true): Promise<T | undefined>;
export async function readCnbFile<T>(path: string, parse: (text: string, file: string) => T, optional?: false): Promise<T>;
export async function readCnbFile<T>(path: string, parse: (text: string, file: string) => T, optional = false): Promise<T | undefined> {
  const text = optional ? await readBoundedFile(path, MAX_TOML_BYTES, true) : await readBoundedFile(path, MAX_TOML_BYTES);
  return text === undefined ? undefined : parse(text, path);
}

/**
 * A copy of a free-form value (metadata tables) with every table's keys sorted, so output does not depend on
 * the order a value was built in. Keys are copied as own data properties (a `__proto__` key stays a key).
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const keys = Object.keys(v).sort();
    return Object.fromEntries(keys.map((k) => [k, canonical((v as TomlTable)[k])]));
  }
  return v;
}

/** Drops undefined-valued keys (TOML has no null) before stringifying. */
function pruneUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruneUndefined);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, pruneUndefined(x)]),
    );
  }
  return v;
}

/** TOML text for a document whose key order the caller fixed; undefined values are omitted. */
export function stringifyToml(doc: TomlTable): string {
  const text = stringify(pruneUndefined(doc));
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
