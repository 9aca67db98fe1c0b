/**
 * NETWORK (deb.debian.org and the npm registry, reachable on the development and CI machines): README command 1
 * as a new user meets it. `cairn build seed --path examples/seed` with no builder, in an empty CAIRN_HOME, makes
 * cairn's default builder (the tiny Debian stack, Node.js for the buildpacks, the bundled buildpacks) and builds
 * the seed app on it; the image serves on port 3000 under podman with Node.js 16, as uid 1000, without npm or a
 * compiler. A second build from another copy of the app, with other mtimes and umask, reuses the builder and gives
 * the same digest. Then a run image v2 — the tiny stack with another package list, hence another lock — and
 * `cairn rebase seed --run-image` onto it: every app layer keeps its digest, the base is v2's, the image serves.
 * And the builder's own `/cnb/lifecycle/detector`, run inside the builder's root filesystem, detects the app.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { loadImage } from '../../src/oci/image.js';
import { prepareRootfs } from '../../src/lifecycle/sandbox/rootfs-cache.js';
import { openLocalStore } from '../../src/oci/store/local.js';
import { layerPaths, REPO, runIn, serve } from '../buildpacks/helpers/harness.js';
import { runCairn } from '../helpers/cli.js';
import { setupPodman } from '../helpers/podman.js';
import { needTool } from '../helpers/tools.js';
import { needDebianMirror } from '../stack/helpers/network.js';

const caFlags = process.env.NODE_EXTRA_CA_CERTS ? ['--build-ca-cert', process.env.NODE_EXTRA_CA_CERTS] : [];

/** The default builder's root filesystem, extracted (or found extracted) under the cairn home. */
async function builderRootfs(home: string): Promise<string> {
  const store = await openLocalStore(home);
  try {
    return await prepareRootfs(await loadImage(store, 'cairn/builder:bookworm'), join(home, 'rootfs'));
  } finally {
    await store.close();
  }
}

test('with no builder, cairn build makes the default builder once and builds the seed app on it', { timeout: 600_000 }, async (t) => {
  if (!needTool(t, 'bwrap', 'podman')) return;
  if (!(await needDebianMirror(t))) return;
  const base = await mkdtemp(join(tmpdir(), 'cairn-default-builder-'));
  const podman = await setupPodman();
  try {
    const env = { CAIRN_HOME: join(base, 'home') };
    const first = join(base, 'one', 'seed');
    await cp(join(REPO, 'examples', 'seed'), first, { recursive: true });

    const cold = await runCairn(['build', 'seed', '--path', first, '--json', ...caFlags], { env, timeoutMs: 540_000 });
    assert.equal(cold.code, 0, cold.stderr);
    assert.match(cold.stderr, /\[default builder\] cairn\/builder:bookworm is not in the local store/);
    assert.match(cold.stderr, /\[default builder\] cairn\/builder:bookworm sha256:[0-9a-f]{64} made in/);
    const digest = (JSON.parse(cold.stdout) as { digest: string }).digest;

    const store = await openLocalStore(env.CAIRN_HOME);
    try {
      const image = await loadImage(store, 'seed:latest');
      assert.equal(image.config.config?.User, '1000:1000');
      const paths = (await Promise.all(image.layers.map((_, i) => layerPaths(image, i)))).flat();
      assert.ok(paths.some((p) => /^layers\/cairn_node-engine\/[^/]+\/bin\/node$/.test(p)), 'node is in a node-engine layer');
      assert.ok(!paths.some((p) => /(^|\/)(npm|npx|corepack)(-cli\.js)?$|node_modules\/npm\//.test(p)), 'no npm in the image');
      assert.ok(!paths.some((p) => /(^|\/)(gcc|g\+\+|cc1|cc1plus|make|python3)$/.test(p)), 'no compiler or build tool in the image');
      const { body } = await serve(podman, image, 'default-seed', 3000);
      assert.match(body, /"node":"v16\./);
      assert.equal(runIn(podman, 'default-seed', ['node', '-e', 'console.log(process.getuid())']).trim(), '1000');
    } finally {
      await store.close();
    }

    // Another clone, other mtimes: the builder is reused and the image is the same.
    const second = join(base, 'two', 'seed');
    await cp(join(REPO, 'examples', 'seed'), second, { recursive: true });
    const later = new Date('2031-05-06T07:08:09Z');
    for (const f of ['package.json', 'package-lock.json', 'src/index.js', 'src']) {
      await utimes(join(second, f), later, later);
      await chmod(join(second, f), f === 'src' ? 0o775 : 0o664); // as a umask of 002 leaves them
    }
    const warm = await runCairn(['build', 'seed', '--path', second, '--json', '--clear-cache', ...caFlags], { env, timeoutMs: 240_000, umask: 0o077 });
    assert.equal(warm.code, 0, warm.stderr);
    assert.doesNotMatch(warm.stderr, /\[default builder\]/);
    assert.equal((JSON.parse(warm.stdout) as { digest: string }).digest, digest);
    // The inputs digest the check used is recorded beside their stat identity (so later checks do not hash them).
    const [, recorded] = (await readFile(join(env.CAIRN_HOME, 'default-builder-inputs'), 'utf8')).split('\n');
    const builderStore = await openLocalStore(env.CAIRN_HOME);
    const builderImage = await loadImage(builderStore, 'cairn/builder:bookworm');
    await builderStore.close();
    assert.equal(recorded, builderImage.config.config?.Labels?.['dev.cairn.default-builder.inputs']);

    // The builder carries the lifecycle's phases for platforms that run inside it (Tekton, kpack): its detector,
    // run in the builder's own root filesystem, detects the seed app with the builder's order.
    const rootfs = await builderRootfs(env.CAIRN_HOME);
    const layers = await mkdtemp(join(base, 'layers-'));
    // What the analyzer leaves for the detector (Platform API 0.12+): the run image and its target.
    await writeFile(join(layers, 'analyzed.toml'), '[run-image]\nreference = "cairn/run:tiny"\n[run-image.target]\nos = "linux"\narch = "amd64"\n');
    const detect = spawnSync('bwrap', ['--ro-bind', rootfs, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--ro-bind', second, '/workspace',
      '--bind', layers, '/layers', '--setenv', 'CNB_PLATFORM_API', '0.14', '--setenv', 'PATH', '/usr/bin:/bin', '/cnb/lifecycle/detector', '-app', '/workspace', '-layers', '/layers'], { encoding: 'utf8' });
    assert.equal(detect.status, 0, detect.stderr + detect.stdout);
    assert.match(await readFile(join(layers, 'group.toml'), 'utf8'), /id = "cairn\/node-engine"[\s\S]*id = "cairn\/npm-install"[\s\S]*id = "cairn\/node-start"/);

    // Run image v2: the tiny stack plus one package (another lock), then a rebase onto it.
    const stackDir = join(base, 'stack-v2');
    await mkdir(stackDir);
    const tiny = await readFile(join(REPO, 'stacks', 'tiny', 'stack.toml'), 'utf8');
    await writeFile(join(stackDir, 'stack.toml'), tiny.replace('[run]\npackages = [', '[run]\npackages = ["zlib1g", '));
    const v2 = await runCairn(['stack', 'create', '--config', join(stackDir, 'stack.toml'), '--build-image', 'cairn/build:v2', '--run-image', 'cairn/run:tiny-v2'], { env, timeoutMs: 240_000 });
    assert.equal(v2.code, 0, v2.stderr);
    const rebased = await runCairn(['rebase', 'seed', '--run-image', 'cairn/run:tiny-v2', '--json'], { env });
    assert.equal(rebased.code, 0, rebased.stderr);
    const store2 = await openLocalStore(env.CAIRN_HOME);
    try {
      const before = await loadImage(store2, digest);
      const after = await loadImage(store2, 'seed:latest');
      const runV1 = await loadImage(store2, 'cairn/run:tiny');
      const runV2 = await loadImage(store2, 'cairn/run:tiny-v2');
      const base1 = runV1.layers.length;
      assert.notEqual(runV2.layers[0]!.digest, runV1.layers[0]!.digest, 'v2 is another base');
      assert.deepEqual(after.layers.slice(0, runV2.layers.length).map((l) => l.digest), runV2.layers.map((l) => l.digest), 'the base is v2\'s');
      assert.deepEqual(after.layers.slice(runV2.layers.length).map((l) => l.digest), before.layers.slice(base1).map((l) => l.digest), 'every app layer keeps its digest');
      const { body } = await serve(podman, after, 'default-seed-v2', 3000);
      assert.match(body, /"node":"v16\./);
    } finally {
      await store2.close();
    }
  } finally {
    await podman.cleanup();
    await rm(base, { recursive: true, force: true });
  }
});
