/**
 * Issue "OCI core", acceptance 1 and 5, end to end through the CLI with outside tools as judges:
 * umoci makes an image from a folder → `cairn image copy` pushes it to Debian's docker-registry → skopeo
 * sees the same manifest digest → `cairn image copy` pulls it into a new layout → umoci unpacks it and
 * oci-image-tool validates it. Then a registry answer with wrong blob bytes fails the pull cleanly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCairn } from '../helpers/cli.js';
import { CountingProxy } from '../helpers/counting-proxy.js';
import { type RunningRegistry, startDockerRegistry } from '../helpers/docker-registry.js';
import { needTool, whichTool } from '../helpers/tools.js';

let work: string;
let registry: RunningRegistry | undefined;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-roundtrip-'));
  if (whichTool('docker-registry')) registry = await startDockerRegistry();
});
after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

function sh(cmd: string, args: string[], cwd = work): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('umoci image → cairn push → skopeo → cairn pull → umoci unpack + oci-image-tool validate', async (t) => {
  if (!needTool(t, 'docker-registry', 'umoci', 'skopeo', 'oci-image-tool')) return;
  const host = registry!.host;
  const env = { CAIRN_HOME: join(work, 'home') };

  // An image made by an outside tool, from a folder.
  const src = join(work, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'hello.txt'), 'hello from umoci\n');
  await writeFile(join(src, 'sub', 'data.bin'), Buffer.alloc(100_000, 7));
  const layout = join(work, 'umoci-layout');
  sh('umoci', ['init', '--layout', layout]);
  sh('umoci', ['new', '--image', `${layout}:t`]);
  sh('umoci', ['insert', '--image', `${layout}:t`, src, '/app']);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const umociDigest = index.manifests[0]!.digest;

  const push = await runCairn(['image', 'copy', `oci:${layout}:t`, `docker://${host}/a/b:t`, '--insecure-registry', host], { env });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, new RegExp(umociDigest));

  const inspected = JSON.parse(sh('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/a/b:t`])) as { Digest: string; Layers: string[] };
  assert.equal(inspected.Digest, umociDigest, 'skopeo sees the manifest digest umoci wrote');

  const back = join(work, 'back');
  const pull = await runCairn(['image', 'copy', `${host}/a/b:t`, `oci:${back}:t2`, '--insecure-registry', host], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const backIndex = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  assert.equal(backIndex.manifests[0]!.digest, umociDigest);
  assert.equal(backIndex.manifests[0]!.annotations['org.opencontainers.image.ref.name'], 't2');

  const bundle = join(work, 'bundle');
  sh('umoci', ['unpack', '--image', `${back}:t2`, bundle]);
  assert.equal(await readFile(join(bundle, 'rootfs', 'app', 'hello.txt'), 'utf8'), 'hello from umoci\n');
  assert.equal((await readFile(join(bundle, 'rootfs', 'app', 'sub', 'data.bin'))).length, 100_000);
  sh('oci-image-tool', ['validate', '--type', 'image', '--ref', 'name=t2', back]);

  // Into the local store by bare name, and listed there.
  const local = await runCairn(['image', 'copy', `oci:${back}:t2`, 'roundtrip:v1'], { env });
  assert.equal(local.code, 0, local.stderr);
  const ls = await runCairn(['image', 'ls'], { env });
  assert.match(ls.stdout, /roundtrip:v1\s+sha256:/);
});

test('a blob whose bytes do not match its digest fails the pull and leaves nothing in the store', async (t) => {
  if (!needTool(t, 'docker-registry', 'umoci')) return;
  const host = registry!.host;
  const env = { CAIRN_HOME: join(work, 'home-corrupt') };
  const layout = join(work, 'corrupt-src');
  sh('umoci', ['init', '--layout', layout]);
  sh('umoci', ['new', '--image', `${layout}:t`]);
  const folder = join(work, 'corrupt-folder');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'f'), 'real content\n');
  sh('umoci', ['insert', '--image', `${layout}:t`, folder, '/x']);
  const push = await runCairn(['image', 'copy', `oci:${layout}:t`, `${host}/corrupt/img:t`, '--insecure-registry', host], { env });
  assert.equal(push.code, 0, push.stderr);

  // A proxy answers every layer blob GET with other bytes of the same length.
  const proxy = await CountingProxy.start(host, {
    onRequest: (req) => {
      if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && !req.url!.includes('uploads')) {
        return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: 'X'.repeat(32) };
      }
      return undefined;
    },
  });
  try {
    const r = await runCairn(['image', 'copy', `${proxy.host}/corrupt/img:t`, 'corrupt:v1', '--insecure-registry', proxy.host], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error: .*(does not match|expected \d+ bytes|ended after \d+ of \d+ bytes)/m);
    assert.match(r.stderr, /^hint: /m);
    const blobs = await readdir(join(env.CAIRN_HOME, 'store', 'blobs', 'sha256')).catch(() => []);
    assert.deepEqual(blobs, [], 'no blob was stored');
    const ls = await runCairn(['image', 'ls', '--json'], { env });
    assert.deepEqual(JSON.parse(ls.stdout), []);
  } finally {
    await proxy.stop();
  }
});
