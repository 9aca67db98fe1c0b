/**
 * Killing a process and every descendant (Linux, from /proc). A process that exits re-parents its children
 * to init, after which they no longer look like descendants; so the whole tree is first frozen with SIGSTOP
 * (a stopped process cannot fork), found again until no new member appears, and only then killed with
 * SIGKILL, together with the root's process group. A process that escaped the tree before the kill began
 * (double fork plus setsid) is out of reach: the bwrap executor does not depend on this, since its sandbox
 * is a PID namespace that the kernel empties when its first process dies.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid of every visible process (pid → ppid). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": comm may contain spaces and parentheses, so parse after the last ")".
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    if (Number.isInteger(ppid)) out.set(Number(name), ppid);
  }
  return out;
}

/** The pids of every live descendant of `root` (not `root` itself). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone (ESRCH) or not ours (EPERM): nothing to do
  }
}

/** SIGKILLs `root`, its process group (pgid = root, as for a detached child) and all its descendants. */
export function killTree(root: number): void {
  const frozen = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const fresh = [root, ...descendants(root)].filter((p) => !frozen.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      signal(p, 'SIGSTOP');
      frozen.add(p);
    }
  }
  signal(-root, 'SIGKILL');
  for (const p of frozen) signal(p, 'SIGKILL');
}
