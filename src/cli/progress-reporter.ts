/**
 * Blob transfer progress on stderr, for image copies, pushes and pulls. On a terminal: one line, rewritten at most
 * ten times a second — blobs done of blobs seen and bytes moved of bytes to move. Elsewhere (CI logs, pipes):
 * one plain line per blob moved, and one per retry. Blobs already at the destination are counted, not printed.
 */
import type { ProgressEvent, ProgressSink } from '../oci/progress.js';
import { formatBytes } from './format.js';

export interface ProgressReporter {
  sink: ProgressSink;
  /** Ends the terminal line; call once the transfer is over (successful or not). */
  end(): void;
}

export function progressReporter(out: NodeJS.WritableStream & { isTTY?: boolean }, label: string, now: () => number = Date.now): ProgressReporter {
  const totals = new Map<string, { total: number; done: number; finished: boolean }>();
  let lastDraw = 0;
  let drawn = false;
  const draw = (force: boolean): void => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    let done = 0;
    let total = 0;
    let finished = 0;
    for (const b of totals.values()) {
      done += b.done;
      total += b.total;
      if (b.finished) finished += 1;
    }
    out.write(`\r${label}: ${finished}/${totals.size} blobs, ${formatBytes(done)} of ${formatBytes(total)}\x1b[K`);
    drawn = true;
  };
  const tty = Boolean(out.isTTY);
  const sink = (e: ProgressEvent): void => {
    switch (e.kind) {
      case 'blob-start':
        totals.set(e.digest, { total: e.total, done: 0, finished: false });
        break;
      case 'blob-progress': {
        const b = totals.get(e.digest);
        if (b) b.done = e.done;
        break;
      }
      case 'blob-done': {
        totals.set(e.digest, { total: e.total, done: e.total, finished: true });
        if (!tty && e.action !== 'skip') out.write(`${label}: ${e.action} ${e.digest.slice(7, 19)} ${formatBytes(e.total)}\n`);
        break;
      }
      case 'retry':
        if (tty && drawn) out.write('\n');
        out.write(`${label}: retrying ${e.what} in ${(e.delayMs / 1000).toFixed(1)} s (attempt ${e.attempt}): ${e.reason}\n`);
        drawn = false;
        break;
      case 'manifest':
        break;
    }
    if (tty) draw(e.kind !== 'blob-progress');
  };
  return {
    sink,
    end() {
      if (tty && drawn) out.write('\n');
    },
  };
}
