/**
 * Runs the built CLI as a user would: `bin/cairn` (the package's bin, which runs bin/cairn.js over dist/ with
 * the node on PATH), with its own CAIRN_HOME.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CAIRN_BIN = fileURLToPath(new URL('../../../bin/cairn', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `umask`: run the CLI under this file-creation mask (through sh, which sets it before exec'ing node). */
export function runCairn(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number; umask?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = opts.umask === undefined
      ? [CAIRN_BIN, ...args]
      : ['/bin/sh', '-c', `umask ${opts.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, CAIRN_BIN, ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
