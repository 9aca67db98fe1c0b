/**
 * Spawning one process for an executor: exact argv and environment, output captured (last 1 MiB) and
 * forwarded live, a timeout and an abort signal that kill the whole tree. The child leads its own process
 * group; when it exits, whatever is left of the group is killed too, so that a background process holding
 * the output pipes cannot keep the run from ending (and a stray writer cannot outlive it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { OUTPUT_LIMIT, type RunResult, type RunSpec } from './executor.js';
import { OutputTail } from './output-tail.js';
import { killTree } from './process-tree.js';

export interface ProcessOptions extends Pick<RunSpec, 'timeoutMs' | 'signal' | 'onOutput'> {
  file: string;
  args: string[];
  argv0?: string;
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  /** Extra pipes given to the child as fds 3, 4, …; `onSpawn` drives them. */
  extraPipes?: number;
  onSpawn?: (child: ChildProcess) => void;
}

export interface ProcessOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the process could not be started at all (nothing ran). */
  spawnError?: NodeJS.ErrnoException;
  output: string;
}

/** After the child exits, how long its output pipes may stay open (held by an escaped process). */
const PIPE_GRACE_MS = 2000;

/**
 * Runs the process to its end. Resolves once it and its group are gone; rejects with the abort reason when
 * `signal` fires (after the tree is killed and gone).
 */
export function runProcess(o: ProcessOptions): Promise<ProcessOutcome> {
  o.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const tail = new OutputTail(OUTPUT_LIMIT);
    const child = spawn(o.file, o.args, {
      ...(o.argv0 !== undefined ? { argv0: o.argv0 } : {}),
      env: o.env,
      cwd: o.cwd,
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', ...Array<'pipe'>(o.extraPipes ?? 0).fill('pipe')],
    });
    let timedOut = false;
    let aborted = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const kill = (): void => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killTree(child.pid);
    };
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });

    for (const name of ['stdout', 'stderr'] as const) {
      child[name]!.on('data', (chunk: Buffer) => {
        tail.push(chunk);
        o.onOutput?.(chunk, name);
      });
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError ??= e;
    });
    child.on('exit', () => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is already empty
        }
      }
      graceTimer = setTimeout(() => {
        for (const s of child.stdio) (s as Readable | null)?.destroy();
      }, PIPE_GRACE_MS);
    });
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      o.signal?.removeEventListener('abort', onAbort);
      if (aborted && !timedOut) {
        reject(o.signal!.reason);
        return;
      }
      resolve({
        code,
        signal: sig,
        timedOut,
        ...(spawnError && child.pid === undefined ? { spawnError } : {}),
        output: tail.text(),
      });
    });
    if (child.pid !== undefined) o.onSpawn?.(child);
  });
}

/** The RunResult of a finished process (timeouts and signals as the executor contract states). */
export function runResult(o: ProcessOutcome, output = o.output): RunResult {
  if (o.timedOut) return { code: 128 + constants.signals.SIGKILL, signal: 'SIGKILL', timedOut: true, output };
  if (o.signal) return { code: 128 + (constants.signals[o.signal] ?? 0), signal: o.signal, output };
  return { code: o.code ?? 1, output };
}
