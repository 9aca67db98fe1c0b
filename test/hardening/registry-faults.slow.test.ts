/**
 * Registry faults: cairn talks to the real registry (Debian's docker-registry) through a proxy that injects
 * faults — connection resets (before an answer, mid-blob down, mid-blob up), 500s, 429 with Retry-After,
 * bodies cut short but ended cleanly, stalled connections (before the headers and mid-body), and bytes
 * flipped in flight (a wrong digest, downloads and uploads). Pushes (`cairn image copy oci: → registry`),
 * pulls (`registry → local store`), rebases (`cairn rebase --publish`) and a few `cairn build --publish` run
 * under seeded random faults. Each run must end in success (after retries) or a clean CairnError; whatever the
 * outcome, the local store validates (every digest recomputed), the registry holds no manifest pointing at a
 * missing blob (HEAD of every blob of every tagged manifest, straight to the registry), the tag holds either
 * the image before or the image intended, and the same command run again without faults succeeds.
 * Replay a failure with CAIRN_FAULT_SEED=<the seed printed>.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { validateLayout } from '../../src/oci/store/layout/validate-layout.js';
import { runCairn } from '../helpers/cli.js';
import { CountingProxy, type ProxyFault } from '../helpers/counting-proxy.js';
import { type RunningRegistry, startDockerRegistry } from '../helpers/docker-registry.js';
import { makeTestImage } from '../helpers/make-image.js';
import { needTool, whichTool } from '../helpers/tools.js';
import { assertCleanFailure, type BuildFixtures, buildFixtures, mix, pick, prng, registryDigest, registryProblems, takeSeed } from './helpers.js';

/** Randomised fault runs of push, pull and rebase (each kind of fault × operation is covered). */
const RUNS = 56;
/** Faulted `cairn build --publish` runs on top (each builds for a few seconds). */
const BUILD_RUNS = 4;
/** Seconds of silence before cairn cuts a connection (the stall faults); the default is 60. */
const TIMEOUT_S = 2;
/** Runs in flight at once, each through its own proxy (most of a faulted run is waiting for a retry). */
const LANES = 6;

const KINDS = ['reset', 'reset-mid-blob', '500', '429', 'truncated', 'stall', 'wrong-digest'] as const;
type Kind = (typeof KINDS)[number];
const OPS = ['push', 'pull', 'rebase'] as const;
type Op = (typeof OPS)[number] | 'build';

let base: string;
let registry: RunningRegistry | undefined;
let fx: BuildFixtures;
/** Tags of the source layout and the registry digests the runs start from. */
const images: { tag: string; digest: string }[] = [];
let appDigest: string;

before(async () => {
  if (!whichTool('docker-registry') || !whichTool('bwrap') || !whichTool('cc')) return;
  base = await mkdtemp(join(tmpdir(), 'cairn-faults-'));
  registry = await startDockerRegistry();
  fx = await buildFixtures(base);
  // Source images with incompressible layers (64 KiB – 1.5 MiB), so a fault can land mid-blob.
  const store = await openLayoutStore(fx.storeDir);
  const bytes = (seed: number, n: number): Buffer => {
    const r = prng(seed);
    return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  };
  for (let i = 0; i < 3; i++) {
    const tag = `src${i}`;
    const img = await makeTestImage(store, tag, {
      layers: [[{ path: 'a.bin', content: bytes(i * 3 + 1, 64 << 10) }], [{ path: 'b.bin', content: bytes(i * 3 + 2, 700 << 10) }], [{ path: 'c.bin', content: bytes(i * 3 + 3, 1536 << 10) }]],
      label: tag,
    });
    images.push({ tag, digest: img.digest });
  }
  const env = { CAIRN_HOME: join(base, 'home-setup') };
  const host = registry.host;
  const copy = async (src: string, dst: string): Promise<void> => {
    const r = await runCairn(['image', 'copy', src, `${host}/${dst}`, '--insecure-registry', host], { env });
    assert.equal(r.code, 0, r.stderr);
  };
  for (const img of images) await copy(fx.layout(img.tag), `faults/src:${img.tag}`);
  const built = await runCairn(['build', fx.layout('app'), '--path', await fx.app('rebase', 'hi'), ...fx.buildArgs], { env });
  assert.equal(built.code, 0, built.stderr);
  await copy(fx.layout('app'), 'faults/app:built');
  await copy(fx.layout('test-run:v1'), 'faults/run:v1');
  await copy(fx.layout('test-run:v2'), 'faults/run:v2');
  appDigest = (await registryDigest(host, 'faults/app', 'built'))!;
});

after(async () => {
  await registry?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** Tags the manifest at `repo:from` as `repo:to` too, straight on the registry. */
async function putManifestCopy(host: string, repo: string, from: string, to: string): Promise<void> {
  const got = await fetch(`http://${host}/v2/${repo}/manifests/${from}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(got.status, 200, `GET ${repo}:${from}: ${got.status} ${await got.clone().text()}`);
  const type = got.headers.get('content-type')!;
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${to}`, { method: 'PUT', headers: { 'content-type': type }, body: Buffer.from(await got.arrayBuffer()) });
  assert.equal(put.status, 201, await put.text());
}

/** What a request is, independent of upload session ids: method, path, and the digest it names. */
function requestKey(req: IncomingMessage): { key: string; blobGet: boolean; upload: boolean; manifest: boolean } {
  const url = new URL(req.url!, 'http://x');
  const path = url.pathname.replace(/\/blobs\/uploads\/.*$/, '/blobs/uploads/*');
  const upload = path.endsWith('/blobs/uploads/*') && (req.method === 'PUT' || req.method === 'PATCH');
  return {
    key: `${req.method} ${path} ${url.searchParams.get('digest') ?? ''}`,
    blobGet: req.method === 'GET' && /\/blobs\/sha256:/.test(path),
    upload,
    manifest: /\/manifests\//.test(path) && (req.method === 'GET' || req.method === 'PUT'),
  };
}

/** The fault of kind `kind` for this request, or undefined when it does not apply to it. */
function faultFor(kind: Kind, req: IncomingMessage, r: () => number): ProxyFault | undefined {
  const k = requestKey(req);
  const offset = (max: number): number => Math.floor(r() * max);
  switch (kind) {
    case 'reset':
      return { reset: true };
    case 'reset-mid-blob':
      if (k.blobGet) return { resetAfterResponseBytes: offset(1 << 20) };
      if (k.upload) return { resetAfterRequestBytes: offset(1 << 20) };
      return undefined;
    case '500':
      return { status: 500, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNKNOWN","message":"injected"}]}' };
    case '429':
      return { status: 429, headers: { 'retry-after': '1', 'content-type': 'application/json' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"injected"}]}' };
    case 'truncated':
      if (k.blobGet) return { truncateAfterResponseBytes: offset(1 << 20) };
      if (k.manifest && req.method === 'GET') return { truncateAfterResponseBytes: offset(200) };
      return undefined;
    case 'stall':
      return k.blobGet && r() < 0.5 ? { stallAfterResponseBytes: offset(1 << 20) } : { stall: true };
    case 'wrong-digest':
      if (k.blobGet || k.manifest) return req.method === 'GET' ? { corruptResponseByte: offset(1 << 20) } : { corruptRequestByte: offset(1 << 20) };
      if (k.upload) return { corruptRequestByte: offset(1 << 20) };
      return undefined;
  }
}

interface RunFigures {
  op: Op;
  kind: Kind;
  outcome: 'clean' | 'recovered' | 'error';
  faults: number;
  requests: number;
  ms: number;
  error?: string;
}

/** One fault-injecting proxy, used by one run at a time, and the image a rebase through it must produce. */
interface Lane {
  proxy: CountingProxy;
  rebasedDigest: string;
  setPlan(plan: { run: number; kind: Kind; rate: number } | undefined): void;
}

async function openLane(host: string, seed: number, n: number): Promise<Lane> {
  let plan: { run: number; kind: Kind; rate: number } | undefined;
  const seen = new Map<string, number>();
  const proxy = await CountingProxy.start(host, {
    onRequest: (req) => {
      if (!plan) return undefined;
      const { key } = requestKey(req);
      const count = (seen.get(key) ?? 0) + 1;
      seen.set(key, count);
      const r = prng(mix(seed, plan.run, key, count));
      return r() < plan.rate ? faultFor(plan.kind, req, r) : undefined;
    },
  });
  // A rebase names the run image by the proxy's address: its expected result comes from a run without faults.
  const tag = `reference-${n}`;
  let rebasedDigest: string;
  try {
    await putManifestCopy(host, 'faults/app', 'built', tag);
    const ref = await runCairn(['rebase', `${proxy.host}/faults/app:${tag}`, '--run-image', `${proxy.host}/faults/run:v2`, '--force', '--insecure-registry', proxy.host], { env: { CAIRN_HOME: join(base, `home-lane-${n}`) } });
    assert.equal(ref.code, 0, ref.stderr);
    rebasedDigest = (await registryDigest(host, 'faults/app', tag))!;
    assert.notEqual(rebasedDigest, appDigest);
  } catch (e) {
    await proxy.stop(); // or the test process never exits
    throw e;
  }
  return { proxy, rebasedDigest, setPlan: (p) => { plan = p; seen.clear(); } };
}

test('push, pull, rebase and build --publish under random registry faults end in success or a clean error, never in corruption', { timeout: 1_200_000 }, async (t) => {
  if (!needTool(t, 'docker-registry', 'bwrap', 'cc')) return;
  const seed = takeSeed(t, 'CAIRN_FAULT_SEED');
  const host = registry!.host;
  const started = Date.now();
  const lanes: Lane[] = [];
  const figures: RunFigures[] = [];
  const homes = join(base, 'homes');

  async function faultRun(lane: Lane, i: number, op: Op, kind: Kind): Promise<void> {
    const { proxy } = lane;
    const reg = ['--insecure-registry', proxy.host, '--registry-timeout', String(TIMEOUT_S)];
    const r = prng(mix(seed, 'run', i));
    const rate = pick(r, [0.1, 0.2, 0.4, 0.7]);
    const src = pick(r, images);
    const home = join(homes, String(i));
    const env = { CAIRN_HOME: home };
    const what = `run ${i} (${op}, ${kind} at rate ${rate}, seed ${seed})`;
    let args: string[];
    let repo: string;
    let tag: string;
    let before: string | undefined;
    let intended: string | undefined;
    switch (op) {
      case 'push':
        repo = `faults/push-${i}`;
        tag = 'v1';
        args = ['image', 'copy', fx.layout(src.tag), `${proxy.host}/${repo}:${tag}`];
        intended = src.digest;
        break;
      case 'pull':
        repo = 'faults/src';
        tag = src.tag;
        args = ['image', 'copy', `${proxy.host}/${repo}:${tag}`, `pulled:${i}`];
        before = src.digest;
        intended = src.digest;
        break;
      case 'rebase':
        repo = 'faults/app';
        tag = `rb-${i}`;
        await putManifestCopy(host, repo, 'built', tag);
        args = ['rebase', `${proxy.host}/${repo}:${tag}`, '--run-image', `${proxy.host}/faults/run:v2`, '--force', '--publish'];
        before = appDigest;
        intended = lane.rebasedDigest;
        break;
      case 'build':
        repo = `faults/built-${i}`;
        tag = 'latest';
        args = ['build', `${proxy.host}/${repo}`, '--publish', '--path', await fx.app(`b${i}`, `hello ${i}`), ...fx.buildArgs];
        break;
    }
    const firstRequest = proxy.records.length;
    lane.setPlan({ run: i, kind, rate });
    const t0 = Date.now();
    const res = await runCairn([...args, ...reg], { env, timeoutMs: 300_000 });
    const ms = Date.now() - t0;
    lane.setPlan(undefined);
    const records = proxy.records.slice(firstRequest);
    const faults = records.filter((x) => x.fault).length;
    const fig: RunFigures = { op, kind, outcome: res.code === 0 ? (faults > 0 ? 'recovered' : 'clean') : 'error', faults, requests: records.length, ms };
    if (res.code !== 0) {
      assertCleanFailure(res, what);
      fig.error = /^error: (.*)$/m.exec(res.stderr)![1]!;
    }
    figures.push(fig);

    // Whatever happened: the local store validates, the registry holds no manifest with a missing blob,
    // the tag holds the image before or the image intended.
    const checkState = async (stage: string): Promise<string | undefined> => {
      if (existsSync(join(home, 'store'))) await validateLayout(join(home, 'store')).catch((e: Error) => assert.fail(`${what} ${stage}: local store: ${e.message}`));
      const integrity = await registryProblems(host, [repo]);
      assert.deepEqual(integrity.problems, [], `${what} ${stage}`);
      const now = await registryDigest(host, repo, tag);
      if (op !== 'build') {
        const ok = now === before || now === intended || (res.code !== 0 && /now names those bytes/.test(res.stderr));
        assert.ok(ok, `${what} ${stage}: ${repo}:${tag} holds ${now}, neither ${before} nor ${intended}\n${res.stderr}`);
      }
      return now;
    };
    const now = await checkState('after the faulted run');
    if (res.code === 0) {
      if (intended) assert.equal(now, intended, `${what}: succeeded but the tag holds ${now}`);
      if (op === 'pull') assert.equal((await openLayoutStore(join(home, 'store')).then((s) => s.getManifest(`pulled:${i}`))).digest, intended, what);
      if (op === 'build') assert.ok(now, `${what}: succeeded but nothing is tagged`);
    } else {
      // The same command without faults now succeeds, from whatever the failed run left behind.
      // (With the default registry timeout: a loaded machine may be silent for longer than the stall faults' one.)
      const again = await runCairn([...args, '--insecure-registry', proxy.host], { env, timeoutMs: 300_000 });
      assert.equal(again.code, 0, `${what}: the run after a failure failed\n${again.stderr}`);
      const fixed = await checkState('after the clean rerun');
      if (intended) assert.equal(fixed, intended, `${what}: rerun left ${fixed}`);
    }
    await rm(home, { recursive: true, force: true });
  }

  try {
    // One lane at a time: their reference rebases write the same manifest to one repository, and docker-registry
    // has answered 500 to a manifest read racing such concurrent writes (seen in CI).
    for (let n = 0; n < LANES; n++) lanes.push(await openLane(host, seed, n));
    // Every kind of fault with every operation, in a seeded order, at a seeded rate per request.
    const order = prng(mix(seed, 'order'));
    const runs = Array.from({ length: RUNS }, (_, i) => ({ i, op: OPS[Math.floor(i / KINDS.length) % OPS.length]! as Op, kind: KINDS[i % KINDS.length]!, sort: order() }))
      .sort((a, b) => a.sort - b.sort);
    for (let b = 0; b < BUILD_RUNS; b++) runs.unshift({ i: RUNS + b, op: 'build', kind: pick(order, KINDS), sort: 0 });
    let next = 0;
    await Promise.all(lanes.map(async (lane) => {
      while (next < runs.length) {
        const { i, op, kind } = runs[next++]!;
        await faultRun(lane, i, op, kind);
      }
    }));
  } finally {
    await Promise.all(lanes.map((l) => l.proxy.stop()));
  }
  const all = await registryProblems(host, ['faults/src', 'faults/app', 'faults/run']);
  assert.deepEqual(all.problems, []);
  await validateLayout(fx.storeDir); // the source of the pushes

  // Figures for docs/reliability.md.
  const count = (f: (x: RunFigures) => boolean): number => figures.filter(f).length;
  const lines = [`${figures.length} runs in ${((Date.now() - started) / 1000).toFixed(0)} s; seed ${seed}`];
  for (const op of [...OPS, 'build'] as Op[]) {
    const mine = figures.filter((f) => f.op === op);
    lines.push(`${op}: ${mine.length} runs, ${count((f) => f.op === op && f.outcome === 'clean')} clean, ${count((f) => f.op === op && f.outcome === 'recovered')} recovered, ${count((f) => f.op === op && f.outcome === 'error')} clean errors; ${mine.reduce((n, f) => n + f.faults, 0)} faults in ${mine.reduce((n, f) => n + f.requests, 0)} requests; ${(mine.reduce((n, f) => n + f.ms, 0) / Math.max(1, mine.length) / 1000).toFixed(1)} s per run`);
  }
  for (const kind of KINDS) {
    const mine = figures.filter((f) => f.kind === kind);
    lines.push(`${kind}: ${mine.length} runs, ${mine.reduce((n, f) => n + f.faults, 0)} faults, ${count((f) => f.kind === kind && f.outcome === 'recovered')} recovered, ${count((f) => f.kind === kind && f.outcome === 'error')} errors`);
  }
  const errors = new Map<string, number>();
  for (const f of figures) {
    if (!f.error) continue;
    const key = f.error.replace(/sha256:[0-9a-f]+/g, 'sha256:…').replace(/127\.0\.0\.1:\d+/g, 'HOST').replace(/(push|built|rb)-\d+/g, '$1-N').replace(/:src\d/g, ':srcN').replace(/\d+ bytes/g, 'N bytes').slice(0, 160);
    errors.set(key, (errors.get(key) ?? 0) + 1);
  }
  for (const [e, n] of errors) lines.push(`error ×${n}: ${e}`);
  for (const l of lines) t.diagnostic(l);
  assert.equal(figures.length, RUNS + BUILD_RUNS);
  assert.ok(count((f) => f.outcome === 'recovered') > 0, 'some runs recovered from faults');
});
