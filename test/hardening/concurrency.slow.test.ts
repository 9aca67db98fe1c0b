/**
 * Concurrency: four `cairn build`s at once sharing one CAIRN_HOME — the same app twice to the same tag, and
 * two other apps — in several rounds, starting from an empty home (so the builder's root filesystem is
 * extracted by all four at once). Every build succeeds; afterwards the local store validates (every digest
 * recomputed), every tag holds a complete image whose app layer has its app's content, every build cache
 * validates, and no work folder is left behind. Each round also copies an image into the same store and
 * removes the previous round's copy (which collects garbage under the store's lock) while the builds run.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openVolumeCache } from '../../src/lifecycle/cache/volume-cache.js';
import { sha256 } from '../../src/oci/digest.js';
import { type Image, loadImage } from '../../src/oci/image.js';
import { openUncompressed } from '../../src/oci/layer.js';
import tar from 'tar-stream';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../src/oci/store/layout/validate-layout.js';
import { validate } from '../../src/oci/validate.js';
import { runCairn } from '../helpers/cli.js';
import { needTool, whichTool } from '../helpers/tools.js';
import { validateCache, warnings } from '../lifecycle/cache/helpers.js';
import { type BuildFixtures, buildFixtures } from './helpers.js';

const ROUNDS = 10;

let base: string;
let fx: BuildFixtures;

before(async () => {
  if (!whichTool('bwrap') || !whichTool('cc')) return;
  base = await mkdtemp(join(tmpdir(), 'cairn-concurrency-'));
  fx = await buildFixtures(base);
});

after(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

/** The content of `path` in the topmost layer of `image` that holds it. */
async function fileInImage(image: Image, path: string): Promise<string | undefined> {
  for (const layer of [...image.layers].reverse()) {
    const extract = tar.extract();
    let found: string | undefined;
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => chunks.push(c as Buffer));
        stream.on('end', () => {
          if (header.name.replace(/^\.?\//, '') === path) found = Buffer.concat(chunks).toString('utf8');
          next();
        });
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
    });
    (await openUncompressed(layer)).pipe(extract);
    await done;
    if (found !== undefined) return found;
  }
  return undefined;
}

test('four builds at once in one CAIRN_HOME (the same app twice, and two others) all succeed and leave a valid store', { timeout: 300_000 }, async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const env = { CAIRN_HOME: join(base, 'home') };
  const apps = { same: await fx.app('same', 'same app'), other1: await fx.app('other1', 'first other'), other2: await fx.app('other2', 'second other') };
  const builds = [
    { tag: 'same', app: apps.same },
    { tag: 'same', app: apps.same },
    { tag: 'other1', app: apps.other1 },
    { tag: 'other2', app: apps.other2 },
  ];
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = Date.now();
    // Alongside, a copy into the same store and a removal (with its garbage collection) of the last round's copy.
    const [results, others] = await Promise.all([
      // A build env of its own each round: every build runs the lifecycle (no no-op reuse of the last round's).
      Promise.all(builds.map((b) => runCairn(['build', b.tag, '--path', b.app, '--env', `ROUND=${round}`, ...fx.buildArgs], { env, timeoutMs: 240_000 }))),
      Promise.all([
        runCairn(['image', 'copy', fx.layout('test-run:v2'), `copied:r${round}`], { env }),
        ...(round > 0 ? [runCairn(['image', 'rm', `copied:r${round - 1}`], { env })] : []),
      ]),
    ]);
    times.push(Date.now() - t0);
    results.forEach((r, i) => assert.equal(r.code, 0, `round ${round}, build ${i} (${builds[i]!.tag}):\n${r.stderr}`));
    others.forEach((r) => assert.equal(r.code, 0, `round ${round}: ${r.stderr}`));

    const storeDir = join(env.CAIRN_HOME, 'store');
    const report = await validateLayout(storeDir);
    assert.deepEqual(report.tags.sort(), [`copied:r${round}`, 'other1:latest', 'other2:latest', 'same:latest']);
    const store = await openLayoutStore(storeDir);
    for (const [tag, dir] of Object.entries(apps)) {
      const image = await loadImage(store, `${tag}:latest`);
      await validate(image, { layers: true });
      const digests = results.filter((_, i) => builds[i]!.tag === tag).map((r) => /digest (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1]);
      assert.ok(digests.includes(image.digest), `${tag} holds ${image.digest}, which none of its builds produced (${digests.join(', ')})`);
      assert.equal(await fileInImage(image, 'workspace/greeting.txt'), await readFile(join(dir, 'greeting.txt'), 'utf8'), `${tag}'s app layer`);
      const w = warnings();
      await validateCache(await openVolumeCache(join(env.CAIRN_HOME, 'cache', sha256(tag).slice(7, 23)), { warn: w.warn }), w.list);
    }
    assert.deepEqual(await readdir(join(env.CAIRN_HOME, 'builds')), [], 'no work folder is left behind');
  }
  t.diagnostic(`${ROUNDS} rounds of 4 concurrent builds (+ a copy and a removal): ${times.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
});
