/**
 * Debian control-file syntax (deb822; Debian Policy §5.1): paragraphs ("stanzas") separated by blank lines,
 * each a list of `Field: value` lines where a line starting with a space or a tab continues the previous
 * field. Field names are case-insensitive; a Stanza keeps them in the case first seen and in file order, so
 * that a stanza can be written back unchanged (needed for dpkg's status file).
 */
import { CairnError } from '../../oci/errors.js';

export class Stanza {
  /** Fields in file order; `name` as written, `value` with continuation lines joined by `\n`. */
  readonly fields: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  private readonly byName: Map<string, string>;

  constructor(fields: ReadonlyArray<{ name: string; value: string }>) {
    this.fields = fields;
    this.byName = new Map(fields.map((f) => [f.name.toLowerCase(), f.value]));
  }

  /** The value of a field (case-insensitive name), or undefined. */
  get(name: string): string | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** The value of a field; throws INVALID_ARCHIVE naming `what` when it is missing or empty. */
  require(name: string, what: string): string {
    const v = this.get(name);
    if (v === undefined || v === '') throw new CairnError('INVALID_ARCHIVE', `${what} has no ${name} field`);
    return v;
  }

  /** Serialises the stanza (no trailing blank line); multi-line values keep their ` ` continuation prefix. */
  format(): string {
    return this.fields.map((f) => `${f.name}:${formatValue(f.value)}\n`).join('');
  }
}

function formatValue(v: string): string {
  const lines = v.split('\n');
  const first = lines[0] === '' ? '' : ` ${lines[0]}`;
  return first + lines.slice(1).map((l) => `\n ${l}`).join('');
}

/**
 * Parses one stanza's text. Continuation lines are kept with their leading whitespace removed (one space
 * or tab), so `Description` bodies round-trip through `format()`. `what` names the source in errors.
 */
export function parseStanza(text: string, what: string): Stanza {
  const fields: { name: string; value: string }[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    if (line === '' || line.startsWith('#')) continue;
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      const last = fields[fields.length - 1];
      if (!last) throw new CairnError('INVALID_ARCHIVE', `${what}: continuation line before any field: "${line.slice(0, 60)}"`);
      last.value += '\n' + line.slice(1);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CairnError('INVALID_ARCHIVE', `${what}: malformed line "${line.slice(0, 60)}"`);
    fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
  }
  return new Stanza(fields);
}
