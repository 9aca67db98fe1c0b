#!/usr/bin/env node
// cairn's command-line entry point: a thin shell over dist/cli.mjs, the bundled CLI (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('error: cairn is not built (dist/cli.mjs is missing)\nhint: run `npm ci` (or `npm run build`) in the cairn folder\n');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  now: () => new Date(),
});
