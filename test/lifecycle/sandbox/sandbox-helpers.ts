/** Shared by the executor tests: spec defaults and a check that no process of a run survives it. */
import { readdirSync, readFileSync } from 'node:fs';
import type { RunSpec } from '../../../src/lifecycle/sandbox/executor.js';

export const PATH = '/usr/bin:/bin';

export function spec(argv: string[], more: Partial<RunSpec> = {}): RunSpec {
  return { argv, env: { PATH }, cwd: '/', mounts: [], uid: 1000, gid: 1000, ...more };
}

/** Pids of live host processes whose environment holds `NAME=value`. */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`${name}=${value}\0`);
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${p}/environ`);
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // zombie: already dead
      if (env.includes(needle)) out.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Waits (up to `ms`) until no process carries the marker; returns those still there. */
export async function survivors(name: string, value: string, ms = 2000): Promise<number[]> {
  const end = Date.now() + ms;
  for (;;) {
    const left = processesWithEnv(name, value);
    if (left.length === 0 || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}
