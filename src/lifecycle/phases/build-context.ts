/**
 * What the detector and builder phases share: their common inputs, the log sink, the execution environment
 * rule, and the per-buildpack scratch folder each `bin/detect` / `bin/build` gets.
 *
 * Ownership (an assumption about the executors, see `sandboxOwner`): the host executor switches to uid/gid,
 * so folders a buildpack must write are chowned to them; a bwrap executor runs uid/gid in a user namespace
 * that maps them to the invoking user, so those folders stay owned by the invoking user.
 */
import { chown, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atLeast, type ApiVersion } from '../api.js';
import { CairnError } from '../../oci/errors.js';
import { completeTarget } from '../detect/target-match.js';
import { DEFAULT_EXEC_ENV } from '../exec-env.js';
import type { Executor, Mount } from '../sandbox/executor.js';
import type { TargetData } from '../target.js';
import type { BuildDirs } from './dirs.js';

export type LogLevel = 'debug' | 'info' | 'warn';

/** Where a phase reports progress; the CLI decides what to show. */
export type LogSink = (level: LogLevel, message: string) => void;

/** Inputs common to the detector and the builder. */
export interface SandboxPhaseInput {
  dirs: BuildDirs;
  executor: Executor;
  platformApi: ApiVersion;
  /** Run image target (analyzed.toml `[run-image.target]`). */
  target: TargetData;
  /** Text of the build image's `/etc/os-release`, used when `target` has no distro (digest §3.2). */
  osRelease?: string;
  /** `CNB_EXEC_ENV` (Platform ≥ 0.15); default `production`. */
  execEnv?: string;
  /** The CNB user the buildpacks run as. */
  uid: number;
  gid: number;
  /** The lifecycle's own environment; only the include-list and layer path variables get through (digest §2.8). */
  processEnv: Readonly<Record<string, string | undefined>>;
  log: LogSink;
  /** Host folder for the per-buildpack scratch folders; default `os.tmpdir()`. */
  tmpDir?: string;
  /** Whether buildpacks reach the network; default true. */
  network?: boolean;
  /** Per `bin/detect` / `bin/build` run. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** `CNB_EXEC_ENV` for this build: only Platform API ≥ 0.15 has one, defaulting to `production`. */
export function effectiveExecEnv(input: Pick<SandboxPhaseInput, 'platformApi' | 'execEnv'>): string | undefined {
  if (!atLeast(input.platformApi, '0.15')) return undefined;
  return input.execEnv || DEFAULT_EXEC_ENV;
}

/** The run image target as buildpacks see it (`CNB_TARGET_*`): distro completed from the build image. */
export function effectiveTarget(input: Pick<SandboxPhaseInput, 'target' | 'osRelease'>): TargetData {
  return completeTarget(input.target, input.osRelease);
}

/**
 * Gives a folder to the sandboxed user: chown to uid/gid under the host executor (a no-op when it already is
 * theirs, or when cairn is not root: that executor then runs buildpacks as cairn's own user, who owns the
 * folder); nothing under bwrap, whose user namespace maps uid/gid to the invoking user.
 */
export async function sandboxOwner(executor: Executor, path: string, uid: number, gid: number): Promise<void> {
  if (executor.kind !== 'host') return;
  const st = await stat(path);
  if (st.uid === uid && st.gid === gid) return;
  try {
    await chown(path, uid, gid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return;
    throw new CairnError('IO', `cannot give ${path} to uid ${uid}, gid ${gid}: ${(e as Error).message}`, { cause: e });
  }
}

/** How a run that did not exit 0 ended, for messages: `exited with code N`, `was killed by SIG…`, `timed out …`. */
export function howItEnded(r: { code: number; signal?: string; timedOut?: boolean }, timeoutMs: number | undefined): string {
  if (r.timedOut) return `timed out after ${timeoutMs} ms and was killed`;
  if (r.signal) return `was killed by ${r.signal}`;
  return `exited with code ${r.code}`;
}

/** A temporary folder for one buildpack run: created on the host, writable at `/tmp` in the sandbox. */
export interface Scratch {
  host: string;
  /** The same folder as the buildpack sees it. */
  sandbox: string;
  mount: Mount;
  dispose(): Promise<void>;
}

/** Sandbox path of scratch folders under bwrap: the buildpack's own private `/tmp`. */
const SANDBOX_SCRATCH = '/tmp';

export async function makeScratch(input: Pick<SandboxPhaseInput, 'executor' | 'tmpDir' | 'uid' | 'gid'>, prefix: string): Promise<Scratch> {
  const host = await mkdtemp(join(input.tmpDir ?? tmpdir(), `cairn-${prefix}-`));
  try {
    await sandboxOwner(input.executor, host, input.uid, input.gid);
  } catch (e) {
    await rm(host, { recursive: true, force: true });
    throw e;
  }
  const sandbox = input.executor.kind === 'host' ? host : SANDBOX_SCRATCH;
  return {
    host,
    sandbox,
    mount: { host, sandbox, writable: true },
    dispose: () => rm(host, { recursive: true, force: true }),
  };
}
