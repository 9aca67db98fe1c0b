#!/usr/bin/env node
// cairn's command-line entry point: a thin shell over dist/cli.mjs, the bundled CLI (built by `npm ci` / `npm run build`).
import { accessSync, constants, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// bin/cairn hands NODE_EXTRA_CA_CERTS over under this name, so that Node.js does not parse the file at start-up.
// It goes back under its own name for child processes and for cairn's TLS clients, which load it on their
// first connection (src/oci/tls-trust.ts); an unreadable file gets Node.js's own warning, and is skipped as Node.js skips it.
const deferredCa = process.env.CAIRN_NODE_EXTRA_CA_CERTS;
if (deferredCa !== undefined) {
  delete process.env.CAIRN_NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = deferredCa;
  try {
    accessSync(deferredCa, constants.R_OK);
  } catch (e) {
    process.stderr.write(`Warning: Ignoring extra certs from \`${deferredCa}\`, load failed: ${e.message}\n`);
  }
}

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
