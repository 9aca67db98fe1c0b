/**
 * Configures the packages of a composed build image the way Debian does it, by running
 * `dpkg --configure -a` inside the tree with bubblewrap (the tree is `/`; no network; a fixed
 * SOURCE_DATE_EPOCH so byte-compiled Python and other generated files do not depend on the clock).
 * Needs the build image composed with `dpkgState: 'unpacked'` and dpkg among its packages, and bwrap
 * on the host, run as root (owners of files the scripts create are not mapped back from a user namespace).
 * Afterwards the logs dpkg and update-alternatives write (timestamped) and the `*-old` backups are removed
 * and the tree's table is rebuilt from the disk.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { CairnError } from '../oci/errors.js';
import type { RootTree } from './root-tree.js';

/** Runs a command to completion, returning its exit code and combined output. */
export type RunCommand = (cmd: string, args: readonly string[]) => Promise<{ code: number; output: string }>;

export interface ConfigureOptions {
  /** How to run bwrap (default: child_process.spawn). */
  run?: RunCommand;
  /** SOURCE_DATE_EPOCH inside the sandbox (default 315532801, 1980-01-01T00:00:01Z as lifecycle uses). */
  sourceDateEpoch?: number;
}

/** Files configuration leaves behind that carry timestamps or are backups, relative to the root. */
const VOLATILE = [
  'var/log/dpkg.log',
  'var/log/alternatives.log',
  'var/lib/dpkg/status-old',
  'var/lib/dpkg/diversions-old',
  'var/lib/dpkg/statoverride-old',
  'var/cache/debconf/config.dat-old',
  'var/cache/debconf/templates.dat-old',
  'var/cache/debconf/passwords.dat-old',
  'var/cache/ldconfig/aux-cache',
];

/** Runs `dpkg --configure -a` in the tree; returns dpkg's output. Throws INTERNAL with the output on failure. */
export async function configurePackages(tree: RootTree, opts: ConfigureOptions = {}): Promise<string> {
  if (tree.kindOf('usr/bin/dpkg') !== 'file') {
    throw new CairnError('INVALID_ARGUMENT', 'cannot configure packages: dpkg is not installed in the build image', { hint: 'add dpkg (or essential = true) to [build] in stack.toml' });
  }
  const epoch = String(opts.sourceDateEpoch ?? 315532801);
  const args = [
    '--bind', tree.root, '/',
    '--proc', '/proc',
    '--dev', '/dev',
    '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts',
    '--die-with-parent',
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--setenv', 'DEBIAN_FRONTEND', 'noninteractive',
    '--setenv', 'DEBCONF_NONINTERACTIVE_SEEN', 'true',
    '--setenv', 'LC_ALL', 'C.UTF-8',
    '--setenv', 'HOME', '/root',
    '--setenv', 'SOURCE_DATE_EPOCH', epoch,
    '/usr/bin/dpkg', '--configure', '-a',
  ];
  const { code, output } = await (opts.run ?? runProcess)('bwrap', args);
  if (code !== 0) {
    throw new CairnError('INTERNAL', `dpkg --configure -a failed in the build image (exit ${code}):\n${output.trim().split('\n').slice(-20).join('\n')}`, {
      hint: 'a maintainer script failed; the output above names the package',
    });
  }
  for (const rel of VOLATILE) rmSync(tree.hostPath(rel), { force: true });
  tree.rescan();
  return output;
}

function runProcess(cmd: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (e) =>
      reject(new CairnError('NOT_FOUND', `cannot run ${cmd}: ${e.message}`, { cause: e, hint: 'install bubblewrap (apt-get install bubblewrap)' })),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }));
  });
}
