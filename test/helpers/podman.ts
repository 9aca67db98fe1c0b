/**
 * podman (4.3) for integration tests, isolated: its own storage root, run root and temp folder, and the
 * containers.conf this machine needs (environment.md: runc, cgroupfs, file events, fixed ulimits) passed
 * through CONTAINERS_CONF. `service()` starts the Docker-compatible API on a unix socket.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountUnder, waitForPing } from './engine-process.js';

export const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

export interface Podman {
  /** Runs podman with the isolated storage; returns stdout. */
  podman(args: string[], opts?: { input?: Buffer | string }): string;
  /** Starts `podman system service` on a socket in the temp folder; returns its DOCKER_HOST value. */
  service(): Promise<{ host: string; socket: string; stop(): Promise<void> }>;
  cleanup(): Promise<void>;
}

export async function setupPodman(): Promise<Podman> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-podman-'));
  const conf = join(dir, 'containers.conf');
  await writeFile(conf, CONTAINERS_CONF);
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, CONTAINERS_CONF: conf };
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp')];
  const services: (() => Promise<void>)[] = [];
  return {
    podman: (args, opts = {}) => execFileSync('podman', [...base, ...args], { encoding: 'utf8', env, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.input !== undefined ? { input: opts.input } : {}) }),
    async service() {
      const socket = join(dir, `podman-${services.length}.sock`);
      const logPath = join(dir, `service-${services.length}.log`);
      const log = openSync(logPath, 'w');
      const child: ChildProcess = spawn('podman', [...base, 'system', 'service', '--time=0', `unix://${socket}`], { detached: true, env, stdio: ['ignore', log, log] });
      closeSync(log);
      let exited = false;
      const done = new Promise<void>((resolve) => {
        const end = (): void => {
          exited = true;
          resolve();
        };
        child.on('exit', end);
        child.on('error', end);
      });
      const stop = async (): Promise<void> => {
        if (exited || !child.pid) return;
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        await done;
      };
      services.push(stop);
      await waitForPing(socket, 30_000, () => exited, () => readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n'));
      return { host: `unix://${socket}`, socket, stop };
    },
    async cleanup() {
      for (const stop of services) await stop();
      try {
        execFileSync('podman', [...base, 'system', 'reset', '--force'], { env, stdio: 'ignore' });
      } catch {
        // removing the folder below is enough when reset fails
      }
      unmountUnder(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
