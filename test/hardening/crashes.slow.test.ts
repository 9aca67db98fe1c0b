/**
 * Crashes: `cairn` is killed with SIGKILL at a random moment of a push (oci: layout → registry), a pull
 * (registry → local store), a copy out of the local store (local → oci: layout) and a `cairn build` (test
 * builder, greeter buildpack), each writing over a tag that already holds an image. After every kill:
 * - the local store / layout written to validates (every blob's digest recomputed, every reachable
 *   descriptor present), and so does the source;
 * - the registry holds no manifest pointing at a missing blob;
 * - the tag holds the previous image (same digest as before the killed run, still complete) or, when the kill
 *   came after the tag was moved, the new one (complete);
 * - the build's volume cache opens and validates (metadata without warnings, every layer it lists present
 *   and matching its diffID);
 * - the same command run again succeeds.
 * The kill moments are drawn from a seeded PRNG over each command's measured duration: replay with
 * CAIRN_CRASH_SEED=<the seed printed>.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openVolumeCache } from '../../src/lifecycle/cache/volume-cache.js';
import { sha256 } from '../../src/oci/digest.js';
import { loadImage } from '../../src/oci/image.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../src/oci/store/layout/validate-layout.js';
import { validate } from '../../src/oci/validate.js';
import { type CliResult, runCairn } from '../helpers/cli.js';
import { type RunningRegistry, startDockerRegistry } from '../helpers/docker-registry.js';
import { makeTestImage } from '../helpers/make-image.js';
import { needTool, whichTool } from '../helpers/tools.js';
import { validateCache, warnings } from '../lifecycle/cache/helpers.js';
import { type BuildFixtures, buildFixtures, mix, prng, registryDigest, registryProblems, takeSeed } from './helpers.js';

/** Kills of each copy kind (push, pull, local → oci), and of builds: 3 × 13 + 12 = 51. */
const COPY_KILLS = 13;
const BUILD_KILLS = 12;

let base: string;
let registry: RunningRegistry | undefined;
let fx: BuildFixtures;

before(async () => {
  if (!whichTool('docker-registry') || !whichTool('bwrap') || !whichTool('cc')) return;
  base = await mkdtemp(join(tmpdir(), 'cairn-crashes-'));
  registry = await startDockerRegistry();
  fx = await buildFixtures(base);
});

after(async () => {
  await registry?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

interface Figures {
  kills: number;
  /** Runs that finished before their kill moment (not counted as kills). */
  finished: number;
  /** Kills after which the tag had already moved to the new image. */
  moved: number;
  ms: number;
}

/** Runs `args`, SIGKILLed after `killAfterMs`; whether it was killed. */
async function runKilled(args: string[], env: Record<string, string>, killAfterMs: number): Promise<{ killed: boolean; r: CliResult }> {
  const r = await runCairn(args, { env, timeoutMs: killAfterMs });
  if (r.code !== -1) assert.equal(r.code, 0, `${args.join(' ')} failed before its kill:\n${r.stderr}`);
  return { killed: r.code === -1, r };
}

async function mustRun(args: string[], env: Record<string, string>, what: string): Promise<number> {
  const t0 = Date.now();
  const r = await runCairn(args, { env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${what}: ${args.join(' ')}\n${r.stderr}`);
  return Date.now() - t0;
}

async function layoutTag(dir: string, tag: string): Promise<string | undefined> {
  const store = await openLayoutStore(dir);
  return (await store.listTags()).includes(tag) ? (await store.getManifest(tag)).digest : undefined;
}

/** The layout validates; `tag` holds `previous` (complete) or `next`. Returns whether it moved to `next`. */
async function checkLayout(dir: string, tag: string, previous: string | undefined, next: string | undefined, what: string): Promise<boolean> {
  await validateLayout(dir).catch((e: Error) => assert.fail(`${what}: ${e.message}`));
  const now = await layoutTag(dir, tag);
  if (now !== previous) {
    if (next !== undefined) assert.equal(now, next, `${what}: ${tag} holds ${now}, neither the previous ${previous} nor the new ${next}`);
    else assert.ok(now, `${what}: ${tag} vanished`);
  }
  if (now !== undefined) await validate(await loadImage(await openLayoutStore(dir), tag), { layers: true }).catch((e: Error) => assert.fail(`${what}: ${tag}: ${e.message}`));
  return now !== previous;
}

test('kill -9 at random moments of push, pull, local → oci copy and build: stores stay valid, tags stay whole, the next run succeeds', { timeout: 1_200_000 }, async (t) => {
  if (!needTool(t, 'docker-registry', 'bwrap', 'cc')) return;
  const seed = takeSeed(t, 'CAIRN_CRASH_SEED');
  const rng = prng(mix(seed, 'crashes'));
  const started = Date.now();
  const host = registry!.host;
  const reg = ['--insecure-registry', host];
  const figures = new Map<string, Figures>();
  const fig = (name: string): Figures => figures.get(name) ?? (figures.set(name, { kills: 0, finished: 0, moved: 0, ms: 0 }), figures.get(name)!);

  // Copies: each cycle makes a new image (4 incompressible layers, 4 MiB) and sends it through the chain
  // layout → registry (push) → local store (pull) → another layout (copy), each step writing over the tag
  // that holds the previous cycle's image. Every step is first killed, checked, then run again.
  const src = join(base, 'src');
  const dest = join(base, 'dest');
  const homePull = { CAIRN_HOME: join(base, 'home-pull') };
  const steps = [
    { name: 'push', args: (k: number) => ['image', 'copy', `oci:${src}:img${k}`, `${host}/crash/push:t`, ...reg], env: { CAIRN_HOME: join(base, 'home-push') } },
    { name: 'pull', args: () => ['image', 'copy', `${host}/crash/push:t`, 'pulled', ...reg], env: homePull },
    { name: 'local → oci', args: () => ['image', 'copy', 'pulled', `oci:${dest}:t`], env: homePull },
  ];
  /** How long the latest run of each step took without a kill: the span its next kill moment is drawn from. */
  const durations = new Map<string, number>();
  let previous: string | undefined;
  for (let k = 0; k === 0 || (steps.some((s) => fig(s.name).kills < COPY_KILLS) && k <= 3 * COPY_KILLS); k++) {
    const bytes = (n: number): Buffer => {
      const r = prng(mix(seed, 'image', k, n));
      const b = Buffer.alloc(1 << 20);
      for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(Math.floor(r() * 2 ** 32), i);
      return b;
    };
    const image = await makeTestImage(await openLayoutStore(src, { create: true }), `img${k}`, {
      gzip: false,
      layers: [0, 1, 2, 3].map((n) => [{ path: `l${n}.bin`, content: bytes(n) }]),
      label: `cycle ${k}`,
    });
    for (const step of steps) {
      const what = `cycle ${k}, ${step.name} (seed ${seed})`;
      const args = step.args(k);
      const f = fig(step.name);
      if (k === 0 || f.kills >= COPY_KILLS) {
        // The first cycle leaves the previous image everywhere; a step with all its kills done just passes the image on.
        durations.set(step.name, await mustRun(args, step.env, what));
        continue;
      }
      const { killed } = await runKilled(args, step.env, Math.round(durations.get(step.name)! * (0.2 + 0.8 * rng())));
      if (killed) f.kills++;
      else f.finished++;
      const t0 = Date.now();
      let moved: boolean;
      if (step.name === 'push') {
        const integrity = await registryProblems(host, ['crash/push']);
        assert.deepEqual(integrity.problems, [], what);
        const now = await registryDigest(host, 'crash/push', 't');
        assert.ok(now === previous || now === image.digest, `${what}: crash/push:t holds ${now}`);
        moved = now !== previous;
        await validateLayout(src);
      } else if (step.name === 'pull') {
        moved = await checkLayout(join(homePull.CAIRN_HOME, 'store'), 'pulled:latest', previous, image.digest, what);
      } else {
        moved = await checkLayout(dest, 't', previous, image.digest, what);
        await validateLayout(join(homePull.CAIRN_HOME, 'store'));
      }
      if (killed && moved) f.moved++;
      const checked = Date.now();
      durations.set(step.name, await mustRun(args, step.env, `${what}: the run after the kill`));
      f.ms += checked - t0;
    }
    previous = image.digest;
  }

  // Builds: the same app built again and again into the local store (tag `app`), each build with fresh
  // layers (the greeter embeds a random seed), killed at a random moment, then run again.
  const homeBuild = { CAIRN_HOME: join(base, 'home-build') };
  const appDir = await fx.app('crash', 'hello');
  // Each run gets a build env of its own, so that it runs the lifecycle rather than reusing the last image.
  let runs = 0;
  const build = (): string[] => ['build', 'app', '--path', appDir, '--env', `RUN=${runs++}`, ...fx.buildArgs];
  const store = join(homeBuild.CAIRN_HOME, 'store');
  const cacheDir = join(homeBuild.CAIRN_HOME, 'cache', sha256('app').slice(7, 23));
  let buildMs = await mustRun(build(), homeBuild, 'first build');
  assert.ok(existsSync(cacheDir), `the build cache is at ${cacheDir}`);
  const f = fig('build');
  for (let k = 0; f.kills < BUILD_KILLS && k < BUILD_KILLS * 3; k++) {
    const what = `build ${k} (seed ${seed})`;
    const before = await layoutTag(store, 'app:latest');
    const { killed } = await runKilled(build(), homeBuild, Math.round(buildMs * (0.2 + 0.8 * rng())));
    if (killed) f.kills++;
    else f.finished++;
    const t0 = Date.now();
    const moved = await checkLayout(store, 'app:latest', before, undefined, what);
    if (killed && moved) f.moved++;
    const w = warnings();
    await validateCache(await openVolumeCache(cacheDir, { warn: w.warn }), w.list).catch((e: Error) => assert.fail(`${what}: cache: ${e.message}`));
    f.ms += Date.now() - t0;
    buildMs = await mustRun(build(), homeBuild, `${what}: the build after the kill`);
  }
  const leftovers = await readdir(join(homeBuild.CAIRN_HOME, 'builds')).catch(() => [] as string[]);

  let total = 0;
  for (const [name, x] of figures) {
    total += x.kills;
    t.diagnostic(`${name}: ${x.kills} kills (${x.moved} after the tag moved), ${x.finished} runs done before their kill moment; checks ${(x.ms / Math.max(1, x.kills + x.finished) / 1000).toFixed(2)} s per kill`);
  }
  t.diagnostic(`last clean durations: ${[...durations].map(([n, d]) => `${n} ${d} ms`).join(', ')}, build ${buildMs} ms; build work folders left by kills: ${leftovers.length}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  assert.ok(total >= 50, `${total} kills`);
  assert.deepEqual(leftovers, [], 'the work folders of killed builds are cleaned up');
});
