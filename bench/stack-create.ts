/**
 * `cairn stack create` of stacks/tiny: cold (an empty cairn home: package indexes and .deb files downloaded,
 * the build image configured) and warm (the same home again: the layers come from the layer cache).
 * Goals (the stacks issue): cold under 3 minutes, warm under 20 seconds. Needs root and Debian's mirrors.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CAIRN = fileURLToPath(new URL('../../bin/cairn', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../stacks/tiny/stack.toml', import.meta.url));

export interface StackCreateBench {
  coldMs: number;
  warmMs: number;
}

function timedCreate(home: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    let err = '';
    const p = spawn(CAIRN, ['stack', 'create', '--config', CONFIG, '--build-image', 'bench/build:tiny', '--run-image', 'bench/run:tiny'], {
      env: { ...process.env, CAIRN_HOME: home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? done(performance.now() - t0) : fail(new Error(`stack create exited with ${code}: ${err}`))));
  });
}

export async function benchStackCreate(): Promise<StackCreateBench> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-bench-stack-'));
  try {
    const coldMs = await timedCreate(home);
    const warmMs = await timedCreate(home);
    return { coldMs, warmMs };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
