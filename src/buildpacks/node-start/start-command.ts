/**
 * The `web` process of a Node.js app, first match wins:
 * 1. a Procfile `web:` line;
 * 2. package.json `scripts.start`:
 *    - a plain `node …` command (no shell syntax): run directly, `["node", …]`;
 *    - one word naming a `node_modules/.bin` program that is a Node.js script, plus plain arguments
 *      (`next start`): run directly as `["node", "<its script>", …]`, as npm would but without npm (which is
 *      not in the image) and without a shell;
 *    - anything else: `["sh", "-c", <script>]` with `node_modules/.bin` first on PATH, as npm runs it. That
 *      needs a shell in the run image; the build says so;
 * 3. package.json `main`, when the file exists: `["node", main]`;
 * 4. `server`, `app`, `index` with `.js`, `.cjs`, `.mjs` (in that order): `["node", file]`.
 * Nothing: the build fails and says what to add.
 */
import { BuildpackError, commandFor, splitSimpleCommand } from '../sdk/index.js';

export interface StartInputs {
  procfileWeb?: string;
  startScript?: string;
  main?: string;
  /** Whether a file exists, relative to the package folder. */
  exists: (rel: string) => boolean;
  /** The Node.js script behind `node_modules/.bin/<name>` (path relative to the package folder), if any. */
  binScript: (name: string) => string | undefined;
}

export interface StartCommand {
  command: string[];
  /** Where it came from, for the build output. */
  from: string;
  /** It runs through a shell, which the run image must have. */
  shell: boolean;
  /** Prepend `node_modules/.bin` to PATH for this process (shell-run start scripts). */
  binPath: boolean;
}

export const CANDIDATES = ['server', 'app', 'index'].flatMap((n) => ['.js', '.cjs', '.mjs'].map((e) => `${n}${e}`));

export function startCommand(i: StartInputs): StartCommand {
  if (i.procfileWeb) {
    const c = commandFor(i.procfileWeb);
    return { ...c, from: 'Procfile web', binPath: false };
  }
  if (i.startScript?.trim()) {
    const script = i.startScript.trim();
    const argv = splitSimpleCommand(script);
    if (argv && argv[0] === 'node') return { command: argv, from: 'package.json scripts.start', shell: false, binPath: false };
    if (argv) {
      const js = i.binScript(argv[0]!);
      if (js) return { command: ['node', js, ...argv.slice(1)], from: `package.json scripts.start (${argv[0]} from node_modules/.bin)`, shell: false, binPath: false };
    }
    return { command: ['sh', '-c', script], from: 'package.json scripts.start (through sh)', shell: true, binPath: true };
  }
  if (i.main && i.exists(i.main)) return { command: ['node', i.main], from: 'package.json main', shell: false, binPath: false };
  const file = CANDIDATES.find((f) => i.exists(f));
  if (file) return { command: ['node', file], from: file, shell: false, binPath: false };
  throw new BuildpackError('no start command for this Node.js app', {
    output: `looked for: a Procfile "web:" line, "scripts.start" in package.json${i.main ? `, "main" (${i.main}: no such file)` : ', "main" in package.json'}, ${CANDIDATES.join(', ')}`,
    hint: 'add "scripts": { "start": "node server.js" } to package.json (or a Procfile with "web: node server.js", or a server.js file)',
  });
}
