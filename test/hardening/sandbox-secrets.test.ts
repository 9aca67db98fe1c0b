/**
 * Hardening, sandbox and secrets (issue 7, item 5), through `cairn build` with the bwrap executor and a
 * hostile buildpack (`test/prober`) that tries, from bin/build, to write outside what the spec lets it write
 * (its own `<layers>/<id>`, the app, /tmp), to read host files that are not bound (a marker file, the cairn
 * home, /root), and to raise its privileges (user namespaces, chown to root, /proc/sys, setuid files). It
 * records what happened in a launch layer, which the test reads back from the exported image.
 *
 * Then: a secret given with `cairn build --env` is in no layer, not in the config or labels, not in the cache
 * and nowhere in the cairn home; setuid/setgid bits the buildpack set are gone from the image and the cache;
 * the build's writable folders on the host are 0700 while the build runs and gone afterwards; the image's
 * User is 1000:1000 and its process runs as uid 1000 under podman.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { lstatSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { writeImage } from '../../src/oci/copy.js';
import { loadImage, makeImage } from '../../src/oci/image.js';
import { fileLayer } from '../../src/oci/layer.js';
import { listLayer } from '../../src/oci/layer/list.js';
import { writeLayer } from '../../src/oci/layer/tar-writer.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { compileLauncherOnHost } from '../../src/lifecycle/launcher/compile.js';
import { runCairn } from '../helpers/cli.js';
import { hostShellFiles, makeTestImage } from '../helpers/make-image.js';
import { setupPodman } from '../helpers/podman.js';
import { testRootfs } from '../helpers/test-rootfs.js';
import { needTool, whichTool } from '../helpers/tools.js';

const SECRET = 'cairn-hardening-SECRET-7f3a91c2e5';

const DETECT = '#!/bin/bash\nexit 0\n';
const BUILD = String.raw`#!/bin/bash
# Tries what a hostile buildpack would; records each attempt as "<name> ALLOWED|DENIED" in a launch layer.
set -u
L="$CNB_LAYERS_DIR"
mkdir -p "$L/probe" "$L/cached"
out="$L/probe/probes.txt"
: > "$out"
probe() { local name=$1; shift; if ( "$@" ) >/dev/null 2>&1; then echo "$name ALLOWED" >> "$out"; else echo "$name DENIED" >> "$out"; fi; }
w() { echo pwned > "$1"; }
# writes: only its own layers, the app and /tmp are writable (buildpack spec, "Build": <layers>/<id>, <app>)
probe write-layers-root w /layers/evil
probe write-group-toml w /layers/group.toml
probe mkdir-other-buildpack-layers mkdir /layers/test_other
probe write-cnb w /cnb/evil
probe write-own-buildpack-dir w "$CNB_BUILDPACK_DIR/evil"
probe write-platform w /platform/evil
probe write-platform-env w /platform/env/SECRET
probe write-etc w /etc/evil
probe write-usr-bin w /usr/bin/evil
probe write-root w /evil
probe write-own-layers w "$L/probe/ok"
probe write-workspace w /workspace/ok
probe write-tmp w /tmp/ok
# reads of host paths that are not bound
probe read-host-marker cat "$MARKER_PATH"
probe list-cairn-home ls "$HOST_CAIRN_HOME"
{ printf 'root-listing '; ls -A /root 2>/dev/null | while read -r n; do printf '%s ' "$n"; done; echo; } >> "$out"
# privileges
probe unshare-user unshare -U true
probe unshare-map-root unshare -r true
probe unshare-mount unshare -m true
probe chown-to-root chown 0:0 "$L/probe/ok"
probe write-proc-sys-core-pattern bash -c 'v=$(cat /proc/sys/kernel/core_pattern) && echo "$v" > /proc/sys/kernel/core_pattern'
while read -r k v; do case $k in Uid:|Gid:|NoNewPrivs:|CapEff:|CapPrm:|CapBnd:) echo "status $k $v" >> "$out";; esac; done < /proc/self/status
echo "id $(id -u):$(id -g)" >> "$out"
# setuid/setgid files in every writable place that reaches the image or the cache
probe make-setuid-in-layer bash -c 'cp /usr/bin/id "$0/probe/suid-id" && chmod 6755 "$0/probe/suid-id"' "$L"
probe make-setuid-in-cache bash -c 'cp /usr/bin/id "$0/cached/suid-id" && chmod 4755 "$0/cached/suid-id"' "$L"
probe make-setuid-in-app bash -c 'cp /usr/bin/id /workspace/suid-id && chmod 4755 /workspace/suid-id'
# the secret is used (as a token would be), and kept only in /tmp
if declare -p SECRET >/dev/null 2>&1; then echo "secret-in-env yes" >> "$out"; else echo "secret-in-env no" >> "$out"; fi
cat /platform/env/SECRET > /tmp/token 2>/dev/null && echo "secret-file readable" >> "$out"
printf '[types]\nlaunch = true\n' > "$L/probe.toml"
printf '[types]\ncache = true\n' > "$L/cached.toml"
printf '[[processes]]\ntype = "whoami"\ncommand = ["id"]\ndefault = true\n' > "$L/launch.toml"
`;

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-sandbox-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A builder like test/helpers/test-builder.ts with the prober as its only buildpack, plus unshare and chown. */
async function makeProberBuilder(storeDir: string): Promise<void> {
  const store = await openLayoutStore(storeDir, { create: true });
  const launcher = join(base, 'launcher');
  await compileLauncherOnHost(launcher);
  const bp = join(base, 'prober', '1.0.0');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(join(bp, 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "test/prober"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n');
  await writeFile(join(bp, 'bin', 'detect'), DETECT, { mode: 0o755 });
  await writeFile(join(bp, 'bin', 'build'), BUILD, { mode: 0o755 });
  const blob = (n: string) => join(base, `builder-${n}.tar.gz`);
  const rootfs = await writeLayer([{ type: 'tree', source: testRootfs() }], blob('rootfs'));
  const tools = await writeLayer(['unshare', 'chown'].map((p) => ({ type: 'file' as const, path: `usr/bin/${p}`, source: `/usr/bin/${p}` })), blob('tools'));
  const cnb = await writeLayer([
    { type: 'tree', source: join(base, 'prober'), path: 'cnb/buildpacks/test_prober' },
    { type: 'file', path: 'cnb/order.toml', data: '[[order]]\n[[order.group]]\nid = "test/prober"\nversion = "1.0.0"\n' },
    { type: 'file', path: 'cnb/run.toml', data: '[[images]]\nimage = "probe-run:v1"\n' },
    { type: 'file', path: 'cnb/lifecycle/launcher', source: launcher },
  ], blob('cnb'));
  const builder = makeImage({
    architecture: 'amd64', os: 'linux',
    config: { User: '1000:1000', Env: ['PATH=/usr/bin:/bin', 'CNB_USER_ID=1000', 'CNB_GROUP_ID=1000'], WorkingDir: '/layers' },
    rootfs: { type: 'layers', diff_ids: [] },
  }, [fileLayer(blob('rootfs'), rootfs), fileLayer(blob('tools'), tools), fileLayer(blob('cnb'), cnb)]);
  await writeImage(builder, store, 'probe-builder:latest');
  // The run image: /usr/bin/id and what it loads, so the app's process can run under podman.
  await makeTestImage(store, 'probe-run:v1', {
    layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' }, ...hostShellFiles(['/usr/bin/id'])]],
    runtime: { User: '1000:1000' },
  });
  await store.close();
}

/** Every regular file under `dir`, gunzipped when it is gzip. */
async function* filesUnder(dir: string): AsyncGenerator<{ path: string; data: Buffer }> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else if (e.isFile()) {
      const raw = await readFile(p);
      yield { path: p, data: raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw };
    }
  }
}

async function fileInLayer(blob: Buffer, name: string): Promise<string | undefined> {
  const extract = tar.extract();
  let found: string | undefined;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (h.name === name) found = Buffer.concat(chunks).toString();
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([gunzipSync(blob)]).pipe(extract);
  await done;
  return found;
}

test('a hostile buildpack in the bwrap sandbox; a build-time secret; setuid bits; the app user', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const storeDir = join(base, 'store');
  await makeProberBuilder(storeDir);
  const app = join(base, 'app');
  await mkdir(app);
  await writeFile(join(app, 'index.txt'), 'app\n');
  const marker = join(base, 'host-only');
  await mkdir(marker);
  await writeFile(join(marker, 'marker.txt'), 'host marker\n');
  const home = join(base, 'home');
  await mkdir(home);

  // The build's writable folders, seen from the host while it runs.
  const modes = new Map<string, number>();
  const poll = setInterval(() => {
    try {
      for (const n of readdirSync(join(home, 'builds'))) modes.set(n, lstatSync(join(home, 'builds', n)).mode & 0o7777);
    } catch {
      // not yet there
    }
  }, 20);
  const r = await runCairn([
    'build', `oci:${storeDir}:probed`, '--path', app, '--builder', `oci:${storeDir}:probe-builder:latest`, '--run-image', `oci:${storeDir}:probe-run:v1`,
    '--env', `SECRET=${SECRET}`, '--env', `MARKER_PATH=${join(marker, 'marker.txt')}`, '--env', `HOST_CAIRN_HOME=${home}`,
  ], { env: { CAIRN_HOME: home }, timeoutMs: 120_000 });
  clearInterval(poll);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(modes.size > 0, 'the build folder was seen while the build ran');
  for (const [n, mode] of modes) assert.equal(mode, 0o700, `builds/${n} is reachable by nobody else on the host`);
  assert.deepEqual(await readdir(join(home, 'builds')), [], 'the build folder is removed after the build');

  const store = await openLayoutStore(storeDir);
  const image = await loadImage(store, 'probed');
  const blobs = await Promise.all(image.layers.map(async (l) => {
    const chunks: Buffer[] = [];
    for await (const c of await l.compressed()) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }));
  await store.close();

  // What the buildpack could and could not do.
  let probes: string | undefined;
  for (const b of blobs) probes ??= await fileInLayer(b, 'layers/test_prober/probe/probes.txt');
  assert.ok(probes, 'the probe layer is in the image');
  const result = Object.fromEntries(probes.split('\n').filter((l) => / (ALLOWED|DENIED)$/.test(l)).map((l) => l.split(' ') as [string, string]));
  const allowed = ['write-own-layers', 'write-workspace', 'write-tmp', 'make-setuid-in-layer', 'make-setuid-in-cache', 'make-setuid-in-app'];
  for (const [name, outcome] of Object.entries(result)) {
    assert.equal(outcome, allowed.includes(name) ? 'ALLOWED' : 'DENIED', `${name}\n${probes}`);
  }
  assert.equal(Object.keys(result).length, 23, `every probe ran\n${probes}`);
  assert.match(probes, /^status NoNewPrivs: 1$/m, 'no_new_privs is set');
  assert.match(probes, /^status CapEff: 0+$/m, 'no effective capabilities');
  assert.match(probes, /^status CapBnd: 0+$/m, 'an empty bounding set');
  assert.match(probes, /^id 1000:1000$/m, 'the build runs as the CNB user');
  const hostRoot = (await readdir('/root')).filter((n) => n.startsWith('.'));
  const rootListing = /^root-listing (.*)$/m.exec(probes)?.[1]?.trim().split(' ').filter(Boolean) ?? [];
  for (const n of hostRoot) assert.ok(!rootListing.includes(n), `the host's /root/${n} is not visible (sandbox /root: ${rootListing.join(' ')})`);
  assert.match(probes, /^secret-in-env yes$/m, 'the build did get the secret (clear-env = false)');

  // The secret is nowhere: layers (contents and names), manifest, config and labels, cache, cairn home.
  for (const [i, b] of blobs.entries()) assert.equal(gunzipSync(b).includes(SECRET), false, `layer ${i} holds no secret`);
  assert.equal(image.rawManifest.includes(SECRET), false);
  assert.equal(image.rawConfig.includes(SECRET), false, 'config and labels hold no secret');
  let scanned = 0;
  for (const dir of [home, storeDir]) {
    for await (const f of filesUnder(dir)) {
      scanned++;
      assert.equal(f.data.includes(SECRET), false, `${f.path} holds no secret`);
    }
  }
  assert.ok(scanned > 10, `scanned the cache, the store and the cairn home (${scanned} files)`);
  const cacheFiles: string[] = [];
  for await (const f of filesUnder(join(home, 'cache'))) cacheFiles.push(f.path);
  assert.ok(cacheFiles.length > 0, 'the build left a cache');

  // setuid/setgid bits the buildpack set: stripped from every exported layer and every cached layer.
  let setuidSeen = 0;
  const checkTar = async (data: Buffer, what: string) => {
    for (const e of await listLayer(Readable.from([data]))) {
      if (e.path.endsWith('suid-id')) setuidSeen++;
      assert.equal(e.mode & 0o6000, 0, `${what}: ${e.path} has mode ${e.mode.toString(8)}`);
    }
  };
  for (const [i, b] of blobs.entries()) await checkTar(b, `layer ${i}`);
  for await (const f of filesUnder(join(home, 'cache'))) {
    if (f.data.subarray(257, 262).toString() === 'ustar') await checkTar(f.data, f.path);
  }
  assert.ok(setuidSeen >= 3, `the setuid files are in the image and the cache, without the bits (${setuidSeen} seen)`);
  // ...and from every file left in the cairn home, the layer folders the cache keeps included.
  let keptSeen = 0;
  for (const rel of await readdir(home, { recursive: true })) {
    const st = await lstat(join(home, rel));
    if (rel.includes('/trees/') && rel.endsWith('suid-id')) keptSeen++;
    if (!st.isSymbolicLink()) assert.equal(st.mode & 0o6000, 0, `${rel} has mode ${st.mode.toString(8)}`);
  }
  assert.ok(keptSeen >= 1, 'the cached layer folder was kept, without the bits');

  // The app runs as 1000:1000.
  assert.equal(image.config.config?.User, '1000:1000');
  if (!whichTool('podman') && !process.env.CI) {
    t.diagnostic('podman not installed: the run under podman is skipped');
    return;
  }
  const podman = await setupPodman();
  try {
    const archive = join(base, 'probed.tar');
    const copy = await runCairn(['image', 'copy', `oci:${storeDir}:probed`, `docker-archive:${archive}:localhost/cairn-hardening/probed:v1`], { env: { CAIRN_HOME: home } });
    assert.equal(copy.code, 0, copy.stderr);
    podman.podman(['load', '-i', archive]);
    const id = podman.podman(['run', '--rm', '--network', 'none', 'localhost/cairn-hardening/probed:v1']).trim();
    assert.match(id, /^uid=1000 gid=1000 groups=1000/);
    t.diagnostic(`podman run: ${id}`);
  } finally {
    await podman.cleanup();
  }
});
