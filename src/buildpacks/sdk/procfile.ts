/**
 * Procfile parsing (the Heroku format): one `<type>: <command>` per line; blank lines and `#` comments are
 * skipped. Process types follow the CNB rule (letters, digits, `.`, `_`, `-`). A type given twice is an
 * error, as is a line that is neither.
 */
import { BuildpackError } from './errors.js';

export interface ProcfileEntry {
  type: string;
  command: string;
}

export function parseProcfile(text: string, file = 'Procfile'): ProcfileEntry[] {
  const out: ProcfileEntry[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Za-z0-9._-]+)\s*:\s*(.*)$/.exec(line);
    if (!m || !m[2]!.trim()) {
      throw new BuildpackError(`${file} line ${i + 1} is not "<type>: <command>": ${JSON.stringify(raw)}`, { hint: 'write each process as, e.g., "web: node server.js"' });
    }
    if (seen.has(m[1]!)) throw new BuildpackError(`${file} defines the process type "${m[1]}" twice (line ${i + 1})`, { hint: 'keep one line per process type' });
    seen.add(m[1]!);
    out.push({ type: m[1]!, command: m[2]!.trim() });
  });
  return out;
}
