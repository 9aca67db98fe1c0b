/**
 * A private dockerd (docker.io 20.10) for integration tests, started as environment.md describes: cgroupfs,
 * no iptables, no bridge, its own data root, exec root and socket in a temp folder. `stop()` ends its
 * process group and removes the folder. Tests that need it call `needTool(t, 'dockerd', 'docker')` first.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountUnder, waitForPing } from './engine-process.js';
import { whichTool } from './tools.js';

export interface Dockerd {
  /** `unix:///…/docker.sock`, the DOCKER_HOST value. */
  host: string;
  socket: string;
  /** Runs the docker CLI against this daemon; returns stdout. */
  docker(args: string[], opts?: { input?: Buffer | string }): string;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  const log = openSync(logPath, 'w');
  const child: ChildProcess = spawn(
    whichTool('dockerd') ?? 'dockerd',
    [
      '--exec-opt', 'native.cgroupdriver=cgroupfs', '--iptables=false', '--bridge=none',
      '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'),
      '-H', `unix://${socket}`,
    ],
    // dockerd finds containerd, runc and friends on PATH; they live in sbin folders.
    { detached: true, stdio: ['ignore', log, log], env: { PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin` } },
  );
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
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 15_000);
      await done;
      clearTimeout(killer);
    }
    unmountUnder(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    await waitForPing(socket, 60_000, () => exited, () => readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n'));
  } catch (e) {
    await stop();
    throw e;
  }
  const host = `unix://${socket}`;
  return {
    host,
    socket,
    docker: (args, opts = {}) => execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(opts.input !== undefined ? { input: opts.input } : {}) }),
    stop,
  };
}
