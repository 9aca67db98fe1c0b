/**
 * Helpers for the engines the integration tests start (dockerd, podman service): waiting for the API to
 * answer `GET /_ping` on its unix socket, and unmounting what an engine leaves mounted in its folder.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

export function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/** Polls until the engine answers or `isDead()` says its process is gone; throws with `why()` after `timeoutMs`. */
export async function waitForPing(socketPath: string, timeoutMs: number, isDead: () => boolean, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ping(socketPath)) return;
    if (isDead()) throw new Error(`the engine exited before answering: ${why()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the engine did not answer /_ping within ${timeoutMs} ms: ${why()}`);
}

/** Unmounts every mount point below `dir`, deepest first (dockerd leaves its default netns mounted). */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((p): p is string => p !== undefined && p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
