/**
 * `cairn run IMAGE [-p HOST:CONTAINER] [-e K=V] [-- ARGS]`: runs an image from any cairn store with podman or
 * docker, whichever is installed (podman first: it needs no daemon either). The image is handed over as a
 * docker-archive (`load`), which both engines read.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeImage } from '../../oci/copy.js';
import { CairnError } from '../../oci/errors.js';
import { loadImage } from '../../oci/image.js';
import { openTarget } from '../../oci/open-target.js';
import { createDockerArchive } from '../../oci/store/archive/docker-archive.js';
import { cairnHome } from '../../oci/store/local.js';
import { parseTarget } from '../../oci/transport.js';
import { type CliContext, targetContext } from '../context.js';
import { collect } from '../flags.js';
import { hostPlatform } from '../platform.js';

export function runCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('run')
    .description('run an image with podman or docker')
    .argument('<image>', 'the image (a local-store name, oci:DIR:TAG, …)')
    .argument('[args...]', 'arguments for the process (after --)')
    .option('-p, --publish <host:container>', 'publish a port (repeatable)', collect)
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect)
    .option('--entrypoint <path>', 'run another process type: /cnb/process/<type>')
    .option('--engine <podman|docker>', 'the engine to use (default: podman if installed, else docker)')
    .action(async (image: string, args: string[], o: { publish?: string[]; env?: string[]; entrypoint?: string; engine?: string }) => {
      const engine = o.engine ?? ['podman', 'docker'].find((e) => spawnSync(e, ['--version'], { stdio: 'ignore', env: ctx.env as NodeJS.ProcessEnv }).status === 0);
      if (!engine) throw new CairnError('UNSUPPORTED', 'neither podman nor docker is installed', { hint: 'apt-get install podman (or docker.io), or copy the image to a registry and run it elsewhere' });
      const src = await openTarget(parseTarget(image), 'read', targetContext(ctx), { insecure: [], caCerts: [] });
      const img = await loadImage(src.store, src.key, { platform: hostPlatform(process.arch) });
      const name = `localhost/cairn-run:${img.digest.slice(7, 19)}`;
      await mkdir(join(cairnHome(ctx.env), 'tmp'), { recursive: true });
      const tmp = await mkdtemp(join(cairnHome(ctx.env), 'tmp', 'run-'));
      try {
        const archive = join(tmp, 'image.tar');
        const sink = await createDockerArchive(archive);
        await writeImage(img, sink, name);
        await sink.close();
        const load = spawnSync(engine, ['load', '-q', '-i', archive], { env: ctx.env as NodeJS.ProcessEnv, encoding: 'utf8' });
        if (load.status !== 0) throw new CairnError('DAEMON_ERROR', `${engine} load failed: ${(load.stderr || load.stdout).trim()}`, { hint: `check that ${engine} works: ${engine} info` });
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      const runArgs = ['run', '--rm', '-i', '--init', ...(o.publish ?? []).flatMap((p) => ['-p', p]), ...(o.env ?? []).flatMap((e) => ['-e', e]), ...(o.entrypoint ? ['--entrypoint', o.entrypoint] : []), name, ...args];
      const child = spawn(engine, runArgs, { stdio: 'inherit', env: ctx.env as NodeJS.ProcessEnv });
      // A signal to cairn goes on to the engine, which passes it to the container (--sig-proxy, the default), where
      // an init (--init) hands it to the app — a process with PID 1 would ignore it; the container then stops and
      // is removed (--rm) instead of running on without cairn.
      const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
      const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
      for (const s of signals) process.on(s, forward);
      try {
        setExitCode(await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1))));
      } finally {
        for (const s of signals) process.off(s, forward);
      }
    });
}
