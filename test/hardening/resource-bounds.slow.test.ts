/**
 * Hardening, resource bounds (issue 7, item 6): `cairn build` with the test builder on an app holding one
 * 2 GiB file (sparse on the host: every byte is still copied, tarred, hashed and compressed), an app of
 * 200 000 small files, and a run image of 120 layers. Each build runs as a child under GNU time, whose
 * "Maximum resident set size" is the peak RSS of the largest process of the tree (cairn itself, bwrap or a
 * buildpack); each must stay under MAX_RSS_MIB. The figures go to docs/reliability.md ("Resource bounds").
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { loadImage } from '../../src/oci/image.js';
import { listLayer } from '../../src/oci/layer/list.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { CAIRN_BIN } from '../helpers/cli.js';
import { makeTestImage } from '../helpers/make-image.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { needTool } from '../helpers/tools.js';

const MAX_RSS_MIB = 400;
const GNU_TIME = '/usr/bin/time';

let base: string;
let storeDir: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-bounds-'));
  storeDir = join(base, 'store');
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

interface Measured {
  code: number;
  stderr: string;
  peakRssMiB: number;
  seconds: number;
}

/** Runs `cairn ARGS` under GNU time -v; the peak RSS is the largest of the process tree's. */
function measuredCairn(args: string[], env: Record<string, string>): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(GNU_TIME, ['-v', CAIRN_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const kib = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
      if (!kib) return reject(new Error(`no figures from GNU time:\n${stderr}`));
      resolve({ code: code ?? -1, stderr, peakRssMiB: Number(kib) / 1024, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** /dev/shm when it exists with 4 GiB free (containers often give it 64 MiB). */
async function roomyTmpfs(): Promise<string | undefined> {
  try {
    const s = await statfs('/dev/shm');
    return s.bavail * s.bsize >= 4 * 1024 ** 3 ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}

function haveTools(t: TestContext): boolean {
  if (!needTool(t, 'bwrap', 'cc')) return false;
  if (existsSync(GNU_TIME)) return true;
  if (process.env.CI) throw new Error('missing tool under CI: needs GNU time (apt-get install time)');
  t.skip('needs GNU time (apt-get install time)');
  return false;
}

let builderReady: Promise<void> | undefined;
function builder(): Promise<void> {
  builderReady ??= makeTestBuilder(storeDir, base);
  return builderReady;
}

async function build(t: TestContext, name: string, app: string, opts: { runImage?: string; home?: string } = {}): Promise<Measured> {
  await builder();
  const home = opts.home ?? join(base, `home-${name}`);
  const m = await measuredCairn(['build', `oci:${storeDir}:${name}`, '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`,
    '--run-image', `oci:${storeDir}:${opts.runImage ?? 'test-run:v1'}`, '--env', 'GREETER_SEED=1'], { CAIRN_HOME: home });
  assert.equal(m.code, 0, m.stderr);
  const exportSeconds = /===> EXPORT done in ([\d.]+) s/.exec(m.stderr)?.[1];
  t.diagnostic(`${name}: peak RSS ${m.peakRssMiB.toFixed(0)} MiB, ${m.seconds.toFixed(1)} s (export ${exportSeconds} s)`);
  assert.ok(m.peakRssMiB < MAX_RSS_MIB, `${name}: peak RSS ${m.peakRssMiB.toFixed(0)} MiB, over ${MAX_RSS_MIB} MiB`);
  await rm(home, { recursive: true, force: true });
  return m;
}

/** The entries of the image's layer that holds the app (/workspace). */
async function appLayerEntries(name: string): Promise<Awaited<ReturnType<typeof listLayer>>> {
  const store = await openLayoutStore(storeDir);
  try {
    const image = await loadImage(store, name);
    for (const layer of [...image.layers].reverse()) {
      const entries = await listLayer(await layer.compressed());
      if (entries.some((e) => e.path.startsWith('workspace/'))) return entries;
    }
    assert.fail('no layer holds /workspace');
  } finally {
    await store.close();
  }
}

test('an app with a 2 GiB file: built and exported in bounded memory', async (t) => {
  if (!haveTools(t)) return;
  const app = join(base, 'big-app');
  await mkdir(app);
  await writeFile(join(app, 'greeting.txt'), 'big');
  const fh = await open(join(app, 'big.bin'), 'w');
  await fh.truncate(2 * 1024 ** 3); // sparse: no disk blocks, but 2 GiB of zeros to read, hash and compress
  await fh.write('end', 2 * 1024 ** 3 - 3);
  await fh.close();
  await build(t, 'big', app);
  const big = (await appLayerEntries('big')).find((e) => e.path === 'workspace/big.bin');
  assert.equal(big?.size, 2 * 1024 ** 3, 'the whole file is in the app layer');
  await rm(app, { recursive: true, force: true });
});

test('an app of 200 000 small files: built and exported in bounded memory', async (t) => {
  if (!haveTools(t)) return;
  // On tmpfs when there is a roomy one: this machine's disk takes ~0.3 ms per file created (200 000 files:
  // 64 s to write the app, 60 s more for the build's copy of it), which measures the disk, not cairn. The app
  // and its copy take ~1.6 GB of tmpfs (a page per file).
  const fast = await mkdtemp(join((await roomyTmpfs()) ?? tmpdir(), 'cairn-bounds-'));
  t.after(() => rm(fast, { recursive: true, force: true }));
  const app = join(fast, 'many-app');
  await mkdir(app);
  await writeFile(join(app, 'greeting.txt'), 'many');
  const DIRS = 200;
  const PER_DIR = 1000;
  for (let d = 0; d < DIRS; d++) {
    const dir = join(app, `d${String(d).padStart(3, '0')}`);
    await mkdir(dir);
    await Promise.all(Array.from({ length: PER_DIR }, (_, f) => writeFile(join(dir, `f${f}.txt`), `${d}/${f}\n`)));
  }
  await build(t, 'many', app, { home: join(fast, 'home') });
  const files = (await appLayerEntries('many')).filter((e) => e.type === 'file' && /^workspace\/d\d+\//.test(e.path));
  assert.equal(files.length, DIRS * PER_DIR, 'every file is in the app layer');
  await rm(app, { recursive: true, force: true });
});

test('a run image of 120 layers: built and exported in bounded memory', async (t) => {
  if (!haveTools(t)) return;
  const LAYERS = 120;
  const store = await openLayoutStore(storeDir, { create: true });
  const run = await makeTestImage(store, 'tall-run:v1', {
    layers: Array.from({ length: LAYERS }, (_, i) => [{ path: i === 0 ? 'etc/os-release' : `opt/layer-${i}/file.txt`, content: i === 0 ? 'ID=test\nVERSION_ID=1\n' : `layer ${i}\n` }]),
    runtime: { User: '1000:1000' },
  });
  await store.close();
  const app = join(base, 'tall-app');
  await mkdir(app);
  await writeFile(join(app, 'greeting.txt'), 'tall');
  await build(t, 'tall', app, { runImage: 'tall-run:v1' });
  const out = await openLayoutStore(storeDir);
  try {
    const image = await loadImage(out, 'tall');
    assert.deepEqual(image.config.rootfs.diff_ids.slice(0, LAYERS), run.config.rootfs.diff_ids, 'the run image\'s 120 layers, unchanged, under the app');
    assert.ok(image.layers.length > LAYERS);
  } finally {
    await out.close();
  }
});
