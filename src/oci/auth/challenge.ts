/**
 * `WWW-Authenticate` challenges (RFC 9110 §11.6.1, §11.2): `Bearer realm="…",service="…",scope="…"` or
 * `Basic realm="…"`; several challenges may share one header. The distribution token spec
 * (distribution/docs/spec/auth/token.md) adds `error="insufficient_scope"` when a token lacks an action.
 */

export interface Challenge {
  /** Lowercased scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Lowercased parameter names → unquoted values. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const SPACE = /[ \t]*/y;
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;
const BARE_VALUE = /[^\s,]+/y;

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const headers = Array.isArray(header) ? header : [header];
  return headers.flatMap(parseOne);
}

function parseOne(s: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const match = (re: RegExp): RegExpExecArray | null => {
    re.lastIndex = i;
    const m = re.exec(s);
    if (m) i = re.lastIndex;
    return m;
  };
  const skip = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  for (skip(); i < s.length; skip()) {
    const scheme = match(TOKEN);
    if (!scheme) break;
    const ch: Challenge = { scheme: scheme[0].toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      const start = i;
      skip();
      const name = match(TOKEN);
      match(SPACE);
      if (!name || s[i] !== '=') {
        i = start; // not a parameter: the next challenge starts here
        break;
      }
      i++;
      match(SPACE);
      const quoted = match(QUOTED);
      const value = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : (match(BARE_VALUE)?.[0] ?? '');
      ch.params[name[0].toLowerCase()] = value;
      match(SPACE);
      if (s[i] === ',') i++;
    }
  }
  return out;
}
