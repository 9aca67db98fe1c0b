/**
 * The exec.d program that sizes V8's old space from the container's memory limit at start-up. Added only
 * when the build sets `BP_NODE_OPTIMIZE_MEMORY=true` (as in Paketo's node-engine): every exec.d program is a
 * process the launcher runs at each container start.
 *
 * It is a Node.js script run by the layer's own node (its `#!` line names it), so it works on run images
 * without a shell; node is in the image anyway. It reads the cgroup v2 `memory.max` (else v1
 * `memory.limit_in_bytes`) and, when there is a limit and NODE_OPTIONS sets no heap size, appends
 * `--max-old-space-size=<BPL_NODE_HEAP_PERCENT (default 75) % of the limit, in MiB>` to NODE_OPTIONS.
 * `BPL_NODE_HEAP=false` turns it off. It costs one node start-up (~40 ms) per container start.
 */
import { BuildpackError } from '../sdk/index.js';

export const OPTIMIZE_MEMORY = 'BP_NODE_OPTIMIZE_MEMORY';
export const HEAP_OPT_OUT = 'BPL_NODE_HEAP';
export const HEAP_PERCENT = 'BPL_NODE_HEAP_PERCENT';
export const DEFAULT_HEAP_PERCENT = 75;

/** Whether the build asked for heap sizing (`BP_NODE_OPTIMIZE_MEMORY`, unset: no). */
export function optimizeMemory(value: string | undefined): boolean {
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return false;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  throw new BuildpackError(`${OPTIMIZE_MEMORY} ${JSON.stringify(value)} is neither true nor false`, { hint: `set ${OPTIMIZE_MEMORY}=true to size the V8 heap from the container's memory limit, or unset it` });
}

/** The script, for a node binary at `nodePath` (absolute path in the image). */
export function heapExecD(nodePath: string): string {
  return `#!${nodePath}
'use strict';
// cairn/node-engine: V8 heap from the container memory limit. Turn off with ${HEAP_OPT_OUT}=false.
const fs = require('fs');
const env = process.env;
if (/^(false|0|no|off)$/i.test(env.${HEAP_OPT_OUT} || '')) process.exit(0);
const opts = env.NODE_OPTIONS || '';
if (/--max-old-space-size/.test(opts)) process.exit(0);
const read = (p) => { try { return fs.readFileSync(p, 'utf8').trim(); } catch (e) { return undefined; } };
const limit = read('/sys/fs/cgroup/memory.max') || read('/sys/fs/cgroup/memory/memory.limit_in_bytes');
const bytes = Number(limit);
if (!limit || !Number.isFinite(bytes) || bytes <= 0 || bytes >= 2 ** 60) process.exit(0);
let pct = Number(env.${HEAP_PERCENT} || ${DEFAULT_HEAP_PERCENT});
if (!(pct > 0 && pct <= 100)) pct = ${DEFAULT_HEAP_PERCENT};
const mib = Math.floor((bytes / 1048576) * pct / 100);
if (mib < 16) process.exit(0);
fs.writeSync(3, 'NODE_OPTIONS = ' + JSON.stringify((opts ? opts + ' ' : '') + '--max-old-space-size=' + mib) + '\\n');
`;
}
