/**
 * Shared by the hardening tests: a seeded PRNG (the seed comes from an environment variable when replaying a
 * failure, else is drawn at random, and is always printed), checks that a failed CLI run failed cleanly, a
 * check that no manifest in a registry points at a missing blob, and the build fixtures (the test builder, a
 * second run image, and an app folder for the greeter buildpack).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { MANIFEST_ACCEPT } from '../../src/oci/media-types.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import type { CliResult } from '../helpers/cli.js';
import { makeTestImage } from '../helpers/make-image.js';
import { makeTestBuilder } from '../helpers/test-builder.js';

/** The seed in `$<envName>` (to replay a failure), else a fresh one; printed either way. */
export function takeSeed(t: TestContext, envName: string): number {
  const given = process.env[envName];
  const seed = given ? Number(given) : randomInt(1, 2 ** 31);
  t.diagnostic(`seed ${seed} (replay with ${envName}=${seed})`);
  return seed;
}

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of the parts: a seed derived from a seed and names, independent of the order things happen in. */
export function mix(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const c of parts.join('\u0000')) {
    h ^= c.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** A failed run must fail the way cairn reports its own errors: status 1, `error: …`, no "this is a bug". */
export function assertCleanFailure(r: CliResult, what: string): void {
  assert.equal(r.code, 1, `${what}: exit status ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, /^error: \S.*$/m, `${what}: no "error:" line\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /this is a bug in cairn|\n\s+at \S+ \(/, `${what}: not a CairnError\n${r.stderr}`);
}

interface RawManifest {
  mediaType?: string;
  config?: { digest: string };
  layers?: { digest: string }[];
  manifests?: { digest: string }[];
}

/** The digest a registry holds under `repository:ref`, or undefined when there is none (asked directly, not through a proxy). */
export async function registryDigest(host: string, repository: string, ref: string): Promise<string | undefined> {
  const res = await fetch(`http://${host}/v2/${repository}/manifests/${ref}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT.join(', ') } });
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, `HEAD ${repository}:${ref}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}

/**
 * Every manifest under every tag of `repositories` (children of indexes too), and a HEAD of every blob they
 * name, straight against the registry. Returns the problems found (a manifest pointing at a missing blob).
 */
export async function registryProblems(host: string, repositories: string[]): Promise<{ manifests: number; blobs: number; problems: string[] }> {
  const out = { manifests: 0, blobs: 0, problems: [] as string[] };
  // docker-registry answers 500 to a read that races another client's write of the same bytes (other lanes
  // rebase the same app into the same repository): a 5xx says nothing about the state, so it is asked again.
  const get = async (url: string, init?: RequestInit): Promise<Response> => {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`http://${host}${url}`, init);
      if (res.status < 500 || attempt === 5) return res;
      await res.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  };
  for (const repo of repositories) {
    const tagsRes = await get(`/v2/${repo}/tags/list`);
    if (tagsRes.status === 404) continue;
    const tags = ((await tagsRes.json()) as { tags?: string[] | null }).tags ?? [];
    const pending = [...tags];
    while (pending.length > 0) {
      const ref = pending.pop()!;
      const res = await get(`/v2/${repo}/manifests/${ref}`, { headers: { accept: MANIFEST_ACCEPT.join(', ') } });
      if (res.status !== 200) {
        out.problems.push(`${repo}@${ref}: manifest answers ${res.status}`);
        continue;
      }
      out.manifests++;
      let m: RawManifest;
      try {
        m = JSON.parse(await res.text()) as RawManifest;
      } catch {
        continue; // a manifest a fault corrupted in flight and the registry took as bytes; it names no blob
      }
      for (const child of m.manifests ?? []) pending.push(child.digest);
      for (const d of [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)]) {
        if (!d) continue;
        out.blobs++;
        const head = await get(`/v2/${repo}/blobs/${d}`, { method: 'HEAD' });
        if (head.status !== 200) out.problems.push(`${repo}@${ref} points at blob ${d}, which answers ${head.status}`);
      }
    }
  }
  return out;
}

export interface BuildFixtures {
  /** The layout holding test-builder:latest, test-run:v1 and test-run:v2. */
  storeDir: string;
  layout: (tag: string) => string;
  /** Writes an app folder the greeter buildpack builds; `greeting` changes its layers. */
  app: (name: string, greeting: string) => Promise<string>;
  /** The builder flags of a `cairn build`. */
  buildArgs: string[];
}

/** The test builder and run images v1/v2 in a layout under `base`. */
export async function buildFixtures(base: string): Promise<BuildFixtures> {
  const storeDir = join(base, 'fixtures');
  await makeTestBuilder(storeDir, base);
  const store = await openLayoutStore(storeDir);
  await makeTestImage(store, 'test-run:v2', { layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1.1\n' }], [{ path: 'etc/patched', content: 'yes' }]], runtime: { User: '1000:1000' } });
  const layout = (tag: string): string => `oci:${storeDir}:${tag}`;
  return {
    storeDir,
    layout,
    app: async (name, greeting) => {
      const dir = join(base, 'apps', name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'greeting.txt'), greeting);
      return dir;
    },
    buildArgs: ['--builder', layout('test-builder:latest'), '--run-image', layout('test-run:v1')],
  };
}
