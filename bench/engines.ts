/**
 * The Dockerfile baselines' engines, driven asynchronously (the counting proxy in front of the registry runs
 * in this process): podman with its own storage and the containers.conf this machine needs, and a private
 * dockerd started by the bench (legacy builder: docker 20.10 without BuildKit). Both build with the host
 * network (npm reaches the registry through the host's proxy) and push to a plain-HTTP loopback registry.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDockerd } from '../test/helpers/dockerd.js';
import { unmountUnder } from '../test/helpers/engine-process.js';
import { CONTAINERS_CONF } from '../test/helpers/podman.js';
import { run, type RunResult } from './exec.js';

export interface Engine {
  name: 'podman' | 'docker';
  version: string;
  cli(args: readonly string[]): Promise<RunResult>;
  /** `build -f DOCKERFILE -t TAG CONTEXT`; returns the wall time. */
  build(context: string, dockerfile: string, tag: string, opts?: { noCache?: boolean }): Promise<number>;
  /** The image ID (the config's digest). */
  imageId(tag: string): Promise<string>;
  /** Pushes TAG to `host/repo:tag` over plain HTTP; returns the wall time. */
  push(tag: string, dest: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startPodman(): Promise<Engine> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-podman-'));
  const conf = join(dir, 'containers.conf');
  await writeFile(conf, CONTAINERS_CONF);
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, CONTAINERS_CONF: conf };
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp')];
  const cli = (args: readonly string[]) => run('podman', [...base, ...args], { env });
  return {
    name: 'podman',
    version: (await cli(['--version'])).stdout.trim(),
    cli,
    build: async (context, dockerfile, tag, opts = {}) =>
      (await cli(['build', '--network', 'host', '--pull=never', ...(opts.noCache ? ['--no-cache'] : []), '-f', join(context, dockerfile), '-t', tag, context])).ms,
    imageId: async (tag) => `sha256:${(await cli(['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim()}`,
    push: async (tag, dest) => (await cli(['push', '--tls-verify=false', '--quiet', tag, `docker://${dest}`])).ms,
    async stop() {
      await cli(['system', 'reset', '--force']).catch(() => undefined);
      unmountUnder(dir);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

export async function startDocker(): Promise<Engine> {
  const daemon = await startDockerd();
  const env = { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(daemon.socket, '..', 'client') };
  const cli = (args: readonly string[]) => run('docker', ['-H', daemon.host, ...args], { env });
  const version = (await cli(['version', '--format', '{{.Server.Version}}'])).stdout.trim();
  return {
    name: 'docker',
    version: `docker ${version}`,
    cli,
    build: async (context, dockerfile, tag, opts = {}) =>
      (await cli(['build', '--network', 'host', '-q', ...(opts.noCache ? ['--no-cache'] : []), '-f', join(context, dockerfile), '-t', tag, context])).ms,
    imageId: async (tag) => (await cli(['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim(),
    async push(tag, dest) {
      await cli(['tag', tag, dest]);
      return (await cli(['push', '--quiet', dest])).ms;
    },
    stop: () => daemon.stop(),
  };
}
