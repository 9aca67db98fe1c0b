/**
 * Running the tools a benchmark drives: a process with its wall time, its output, and a failure that says
 * which command failed and what it printed last.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

export interface RunResult {
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args…` to completion; rejects on a non-zero exit with the command and its output's tail. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    let stdout = '';
    let stderr = '';
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) p.stdin!.end(opts.input);
    p.on('error', fail);
    p.on('exit', (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) return done({ ms, stdout, stderr });
      const tail = (stderr + stdout).trim().split('\n').slice(-25).join('\n');
      fail(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}:\n${tail}`));
    });
  });
}
