/**
 * Nesting bound for JSON documents read from untrusted sources (manifests, indexes, configs). JSON.parse
 * accepts any depth, but JSON.stringify and every recursive walk overflow the stack a few thousand levels
 * down (RangeError: Maximum call stack size exceeded), so documents are checked right after parsing.
 */

/** Deepest nesting of objects and arrays accepted; real OCI documents stay under 10. */
export const MAX_JSON_DEPTH = 64;

/** Whether `v` nests objects/arrays deeper than `limit` levels. Iterative: safe on any input. */
export function nestedDeeperThan(v: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 1]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(x) ? x : Object.values(x)) stack.push([child, depth + 1]);
  }
  return false;
}
