/**
 * Whether the process that left something behind (a lock, a temp folder, a staging folder) still runs. Names of
 * such things carry the pid, and the pid namespace where two namespaces may share a folder (containers on one
 * host): a pid is only meaningful inside its namespace.
 */
import { readlinkSync } from 'node:fs';

/** True when a process with this pid exists in this pid namespace (it may belong to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** The inode of this process's pid namespace, or `x` where /proc does not tell. */
export function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? 'x';
  } catch {
    return 'x';
  }
}
