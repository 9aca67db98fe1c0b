/**
 * Bounded JSON for labels read from images (untrusted: a previous app image may come from anywhere) and
 * deterministic JSON output (object keys in the order the builders fix; free-form maps sorted).
 */
import { Fields } from '../files/fields.js';
import { assertShallow, invalidFile, MAX_TOML_BYTES, type TomlTable } from '../files/toml.js';

/** Parses a JSON label value into field readers; `label` names it in errors. */
export function parseJsonLabel(text: string, label: string): Fields {
  if (Buffer.byteLength(text, 'utf8') > MAX_TOML_BYTES) throw invalidFile(`label ${label}`, `larger than ${MAX_TOML_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw invalidFile(`label ${label}`, `not valid JSON: ${(e as Error).message}`, 'the image was not built by a CNB lifecycle, or its label is damaged', e);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalidFile(`label ${label}`, 'expected a JSON object');
  assertShallow(v, `label ${label}`);
  return new Fields(`label ${label}`, v as TomlTable, '', 'the image was not built by a CNB lifecycle, or its label is damaged');
}

/** Drops undefined-valued keys, recursively, leaving key order as built. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, prune(x)]),
    );
  }
  return v;
}

/** Compact JSON with undefined keys omitted. */
export function labelJson(v: unknown): string {
  return JSON.stringify(prune(v));
}
