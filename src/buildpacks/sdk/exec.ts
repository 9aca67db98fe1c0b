/**
 * Runs a command the way a buildpack needs it: its output streamed into the build output as it comes, and
 * the last part kept for the error message when it fails.
 */
import { spawn } from 'node:child_process';
import type { Env } from './context.js';

export interface ExecOptions {
  cwd: string;
  env: Env;
  /** Receives stdout and stderr as they come (default: nothing). */
  onOutput?: (text: string) => void;
  /** How much of the end of the output to keep (default 64 KiB). */
  keep?: number;
}

export interface ExecResult {
  code: number;
  /** Combined stdout and stderr, the last `keep` bytes. */
  output: string;
}

export function exec(file: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const keep = opts.keep ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
    const child = spawn(file, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      opts.onOutput?.(text);
      output += text;
      if (output.length > 2 * keep) output = output.slice(-keep);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), output: output.slice(-keep) });
    });
  });
}
