/**
 * The bubblewrap executor: every process runs in fresh namespaces over the extracted build image
 * (`prepareRootfs`), read-only, seeing only the spec's mounts besides (layout in bwrap-args.ts).
 *
 * Works as root and as a normal user (unprivileged user namespaces). The sandbox user (spec uid:gid) is the
 * only mapped id and stands for the user running cairn: files that user owns on the host (the whole rootfs
 * cache, the phases' folders) appear owned by the sandbox user, and anything it creates in a writable mount
 * belongs to that user on the host; every other host id appears as nobody (65534).
 *
 * Arguments and environment go to bwrap through a pipe (`--args 3`), never its command line, so other users
 * cannot read the environment with ps; bwrap reports on `--json-status-fd 4` whether the command was
 * executed, which separates the buildpack's exit status from a failure to set up the sandbox.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { accessSync, constants as fsc, existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CairnError, messageOf } from '../../oci/errors.js';
import { bwrapArgs, PROC_MASKED_DIRS, PROC_MASKED_FILES, PROC_READ_ONLY, type SandboxHost, SHARED_HOST_FILES } from './bwrap-args.js';
import { checkRunSpec, type Executor, type RunResult, type RunSpec } from './executor.js';
import { rootfsHomeOf } from './passwd.js';
import { RootfsView } from './rootfs-view.js';
import { runProcess, runResult } from './run-process.js';

export interface BwrapExecutorOptions {
  /** The extracted build-image root filesystem (from `prepareRootfs`). */
  rootfs: string;
  /** The bwrap binary: an absolute path, or a name looked up in `searchPath`. Default `bwrap`. */
  bwrap?: string;
  /** PATH-style folder list to find bwrap in (the CLI passes its PATH); /usr/bin, /bin, /usr/local/bin are always searched. */
  searchPath?: string;
}

/** bwrap 0.5.0 brought --perms for tmpfs mounts; older versions are refused. */
const MIN_VERSION: [number, number, number] = [0, 5, 0];
const DEFAULT_DIRS = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'];

const INSTALL_HINT = 'install bubblewrap (apt-get install bubblewrap; dnf install bubblewrap; apk add bubblewrap), ' +
  'or pass --executor host when cairn runs inside the build image (CI, Kubernetes)';

interface Ready {
  bwrap: string;
  rootfs: string;
  view: RootfsView;
  host: SandboxHost;
  homes: Map<number, string>;
}

/** The sandbox is set up (bwrap found and its version read) from the start, in the background; a run waits for it. */
export function createBwrapExecutor(opts: BwrapExecutorOptions): Executor {
  let ready: Promise<Ready> | undefined = prepare(opts);
  ready.catch(() => undefined); // its failure is the first run's
  return {
    kind: 'bwrap',
    async run(spec: RunSpec): Promise<RunResult> {
      checkRunSpec(spec);
      ready ??= prepare(opts);
      const r = await ready.catch((e: unknown) => {
        ready = undefined; // let a later run try again (e.g. after bwrap is installed)
        throw e;
      });
      return runInSandbox(r, spec);
    },
  };
}

async function prepare(opts: BwrapExecutorOptions): Promise<Ready> {
  const bwrap = findBwrap(opts.bwrap ?? 'bwrap', opts.searchPath);
  const version = await bwrapVersion(bwrap);
  if (compareVersions(version, MIN_VERSION) < 0) {
    throw new CairnError('UNSUPPORTED', `bubblewrap ${version.join('.')} at ${bwrap} is too old: cairn needs ${MIN_VERSION.join('.')} or later`, { hint: INSTALL_HINT });
  }
  let rootfs: string;
  try {
    rootfs = realpathSync(opts.rootfs);
    if (!lstatSync(rootfs).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new CairnError('INTERNAL', `the sandbox root filesystem ${opts.rootfs} is unusable: ${messageOf(e)}`, { cause: e, hint: 'this is a bug in cairn; please report it' });
  }
  const exists = (p: string): boolean => existsSync(p);
  return {
    bwrap,
    rootfs,
    view: new RootfsView(rootfs),
    host: {
      shared: SHARED_HOST_FILES.filter(exists),
      procReadOnly: PROC_READ_ONLY.filter(exists),
      procMaskedFiles: PROC_MASKED_FILES.filter(exists),
      procMaskedDirs: PROC_MASKED_DIRS.filter(exists),
      disableUserns: compareVersions(version, [0, 8, 0]) >= 0,
    },
    homes: new Map(),
  };
}

function findBwrap(name: string, searchPath: string | undefined): string {
  const candidates = name.includes('/') ? [name] : [...(searchPath ?? '').split(':').filter((d) => d.startsWith('/')), ...DEFAULT_DIRS].map((d) => posix.join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, fsc.X_OK);
      return c;
    } catch {
      // next candidate
    }
  }
  throw new CairnError('UNSUPPORTED', `bubblewrap (${name}) is not installed: cairn runs buildpacks in a bubblewrap sandbox`, { hint: INSTALL_HINT });
}

function bwrapVersion(bwrap: string): Promise<[number, number, number]> {
  return new Promise((resolve, reject) => {
    execFile(bwrap, ['--version'], { env: {}, cwd: '/', timeout: 10_000 }, (err, stdout) => {
      const m = /(\d+)\.(\d+)\.(\d+)/.exec(String(stdout));
      if (err || !m) {
        reject(new CairnError('UNSUPPORTED', `cannot run ${bwrap} --version: ${err ? messageOf(err) : `unexpected output ${JSON.stringify(String(stdout).slice(0, 200))}`}`, { cause: err, hint: INSTALL_HINT }));
        return;
      }
      resolve([Number(m[1]), Number(m[2]), Number(m[3])]);
    });
  });
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** lstat semantics: the entry exists and is not a symlink. */
function isRealEntry(p: string): boolean {
  try {
    return !lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** stat semantics (symlinks followed): the entry is a folder. */
function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

async function runInSandbox(r: Ready, spec: RunSpec): Promise<RunResult> {
  for (const m of spec.mounts) {
    if (!existsSync(m.host)) {
      throw new CairnError('INTERNAL', `cannot mount ${m.host} at ${m.sandbox} in the sandbox: it does not exist`, { hint: 'this is a bug in cairn; please report it' });
    }
  }
  let home = r.homes.get(spec.uid);
  if (home === undefined) {
    home = rootfsHomeOf(r.rootfs, spec.uid) ?? '/tmp';
    r.homes.set(spec.uid, home);
  }
  const args = bwrapArgs(spec, home, r.host, r.view, isRealEntry, isFolder);
  let status = '';
  const outcome = await runProcess({
    file: r.bwrap,
    args: ['--args', '3', '--json-status-fd', '4', '--', ...spec.argv],
    env: {},
    cwd: '/',
    extraPipes: 2,
    onSpawn: (child: ChildProcess) => {
      const argsPipe = child.stdio[3] as Writable & Readable;
      argsPipe.on('error', () => undefined); // bwrap died before reading: the outcome says why
      argsPipe.resume();
      argsPipe.end(Buffer.from(args.map((a) => `${a}\0`).join('')));
      const statusPipe = child.stdio[4] as Readable;
      statusPipe.setEncoding('utf8');
      statusPipe.on('data', (s: string) => {
        if (status.length < 64 * 1024) status += s;
      });
      statusPipe.on('error', () => undefined); // only reachable when bwrap itself was killed
    },
    ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    ...(spec.signal ? { signal: spec.signal } : {}),
    ...(spec.onOutput ? { onOutput: spec.onOutput } : {}),
  });
  if (outcome.spawnError) {
    throw new CairnError('UNSUPPORTED', `cannot start ${r.bwrap}: ${messageOf(outcome.spawnError)}`, { cause: outcome.spawnError, hint: INSTALL_HINT });
  }
  if (outcome.timedOut) return runResult(outcome);
  const exitCode = commandExitCode(status);
  if (exitCode !== undefined) return { code: exitCode, output: outcome.output };
  if (outcome.signal) return runResult(outcome); // bwrap itself was killed from outside
  const complaint = lastBwrapLine(outcome.output);
  const exec = /^bwrap: execvp .*?: (.*)$/.exec(complaint ?? '');
  if (exec) return { code: /No such file or directory/.test(exec[1]!) ? 127 : 126, output: outcome.output };
  throw setupError(spec, complaint ?? outcome.output.trim().split('\n').pop() ?? `exit status ${outcome.code}`);
}

/** The command's exit status from bwrap's JSON status lines; undefined when the command never ran. */
function commandExitCode(status: string): number | undefined {
  for (const line of status.split('\n')) {
    try {
      const v = JSON.parse(line) as { 'exit-code'?: unknown };
      if (typeof v['exit-code'] === 'number') return v['exit-code'];
    } catch {
      // partial or other line
    }
  }
  return undefined;
}

function lastBwrapLine(output: string): string | undefined {
  return output.split('\n').filter((l) => l.startsWith('bwrap: ')).pop();
}

function setupError(spec: RunSpec, complaint: string): CairnError {
  const userns = /namespace|uid map|gid map|setgroups|No permissions to create/i.test(complaint);
  return new CairnError(userns ? 'UNSUPPORTED' : 'INTERNAL', `cannot set up the sandbox for ${spec.argv[0]}: ${complaint}`, {
    hint: userns
      ? 'bubblewrap needs unprivileged user namespaces: enable them (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 and later ' +
        'kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap), or pass --executor host when cairn runs inside the build image'
      : 'this is a bug in cairn or an unusual build image; run with --verbose and report it',
  });
}
