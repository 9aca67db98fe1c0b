/**
 * The host executor: no sandbox, for when cairn itself runs inside the build image (a Tekton or kpack pod,
 * a CI job in the builder image). The pod is the isolation; paths in the spec are real paths.
 *
 * - Mounts must be identities (`host === sandbox`): they only describe what the process may use. A mount
 *   that would move a path is a bug in the phases (INTERNAL). Read-only mounts are not enforced.
 * - `network: false` cannot be honoured and is refused (UNSUPPORTED) rather than ignored.
 * - When cairn runs as root the process runs as spec uid:gid (no supplementary groups); otherwise as cairn's
 *   own user, whatever the spec says.
 * - Same environment, working directory, output, timeout and exit-status contract as the bwrap executor
 *   (executor.ts). A timeout or abort kills the process, its group and every descendant found in /proc; a
 *   daemon that double-forked and left the session before that is out of reach.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CairnError } from '../../oci/errors.js';
import { checkRunSpec, type Executor, type RunResult, type RunSpec } from './executor.js';
import { runProcess, runResult } from './run-process.js';

/** Spawn errors that mean the file cannot be executed (a shell reports them as 126). */
const NOT_EXECUTABLE = new Set(['EACCES', 'ENOEXEC', 'ENOTDIR', 'ELOOP', 'ETXTBSY', 'EISDIR']);

export interface HostExecutorOptions {
  /** The user id cairn runs as (default: `process.getuid()`); decides whether uid/gid can be switched. */
  currentUid?: number;
}

export function createHostExecutor(opts: HostExecutorOptions = {}): Executor {
  const root = (opts.currentUid ?? process.getuid?.() ?? -1) === 0;
  return {
    kind: 'host',
    async run(spec: RunSpec): Promise<RunResult> {
      checkRunSpec(spec);
      for (const m of spec.mounts) {
        if (resolve(m.host) !== resolve(m.sandbox)) {
          throw new CairnError('INTERNAL', `the host executor cannot mount ${m.host} at ${m.sandbox}: without a sandbox, paths must be the real ones`, {
            hint: 'this is a bug in cairn; please report it',
          });
        }
      }
      if (spec.network === false) {
        throw new CairnError('UNSUPPORTED', `the host executor cannot run ${spec.argv[0]} without network access`, {
          hint: 'use the bwrap executor (--executor bwrap) to cut the network off',
        });
      }
      let cwdIsDir = false;
      try {
        cwdIsDir = statSync(spec.cwd).isDirectory();
      } catch {
        // reported below
      }
      if (!cwdIsDir) {
        throw new CairnError('INTERNAL', `cannot run ${spec.argv[0]} in ${spec.cwd}: it is not a directory`, { hint: 'this is a bug in cairn; please report it' });
      }
      const outcome = await runProcess({
        file: spec.argv[0]!,
        args: spec.argv.slice(1),
        argv0: spec.argv[0]!,
        env: { ...spec.env, PWD: spec.cwd },
        cwd: spec.cwd,
        ...(root ? { uid: spec.uid, gid: spec.gid } : {}),
        ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
        ...(spec.signal ? { signal: spec.signal } : {}),
        ...(spec.onOutput ? { onOutput: spec.onOutput } : {}),
      });
      if (outcome.spawnError) {
        const e = outcome.spawnError;
        if (e.code === 'ENOENT') return { code: 127, output: `cannot execute ${spec.argv[0]}: no such file (or its interpreter is missing)\n` };
        if (NOT_EXECUTABLE.has(e.code ?? '')) return { code: 126, output: `cannot execute ${spec.argv[0]}: ${e.code}\n` };
        throw new CairnError('IO', `cannot start ${spec.argv[0]}: ${e.message}`, { cause: e, hint: 'check the system\'s process and memory limits' });
      }
      return runResult(outcome);
    },
  };
}
