/**
 * The registry store against Debian's real registry (distribution 2.8): anonymous plain HTTP, htpasswd Basic over
 * TLS with a test CA, Bearer tokens from the test token server with scopes checked, and cross-repository mounts
 * measured through a counting proxy.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { staticCredentials } from '../../../../src/oci/auth/credentials.js';
import { sha256 } from '../../../../src/oci/digest.js';
import { CairnError } from '../../../../src/oci/errors.js';
import { MediaType } from '../../../../src/oci/media-types.js';
import type { ProgressEvent } from '../../../../src/oci/progress.js';
import { openRegistryStore, type RegistryStore } from '../../../../src/oci/store/registry/registry-store.js';
import { CountingProxy } from '../../../helpers/counting-proxy.js';
import { startDockerRegistry } from '../../../helpers/docker-registry.js';
import { TokenServer } from '../../../helpers/token-server.js';
import { needTool } from '../../../helpers/tools.js';

const retry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 1000 };

function code(expected: string | string[], pattern?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CairnError, `expected a CairnError, got ${String(e)}`);
    assert.ok([expected].flat().includes(e.code), `got ${e.code}: ${e.message}`);
    if (pattern) assert.match(`${e.message}\n${e.hint ?? ''}`, pattern);
    return true;
  };
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Pushes a config and the given layers, then the manifest under `tag`. Returns the manifest bytes. */
async function pushImage(store: RegistryStore, layers: Buffer[], tag: string, opts: { mountFrom?: string } = {}): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) }, tag }));
  for (const l of layers) {
    const desc = { digest: sha256(l), size: l.length, mediaType: MediaType.OciLayerGzip };
    if (opts.mountFrom && (await store.mountBlob(desc, { host: store.location.host, repository: opts.mountFrom }))) continue;
    await store.putBlob(desc, async () => Readable.from([l]));
  }
  await store.putBlob({ digest: sha256(config), size: config.length }, async () => Readable.from([config]));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: MediaType.OciLayerGzip, digest: sha256(l), size: l.length })),
  }));
  await store.putManifest({ mediaType: MediaType.OciManifest, bytes: manifest }, tag);
  return manifest;
}

test('anonymous over plain HTTP: push and pull blobs, manifest and tags; skopeo reads what was pushed', async (t) => {
  if (!needTool(t, 'docker-registry')) return;
  const reg = await startDockerRegistry();
  try {
    const store = openRegistryStore({ host: reg.host, repository: 'team/app', insecure: true, retry, chunkSize: 256 * 1024 });
    const layers = [randomBytes(1_000_000), randomBytes(10_000)]; // chunked and monolithic
    const events: ProgressEvent[] = [];
    const manifest = await pushImage(store, layers, 'v1');
    await store.putManifest({ mediaType: MediaType.OciManifest, bytes: manifest }, 'v2');
    assert.deepEqual(await store.listTags(), ['v1', 'v2']);
    const got = await store.getManifest('v1');
    assert.deepEqual(got, { mediaType: MediaType.OciManifest, digest: sha256(manifest), bytes: manifest });
    assert.deepEqual((await store.getManifest(sha256(manifest))).bytes, manifest);
    for (const l of layers) {
      assert.equal(await store.statBlob(sha256(l)), l.length);
      assert.deepEqual(await readAll(await store.openBlob({ digest: sha256(l), size: l.length }, { progress: (e) => events.push(e) })), l);
    }
    assert.deepEqual(events.filter((e) => e.kind === 'blob-done').map((e) => (e as { action: string }).action), ['download', 'download']);
    assert.equal(await store.putBlob({ digest: sha256(layers[0]!), size: layers[0]!.length }, async () => assert.fail('not re-read')), false);
    await assert.rejects(store.getManifest('v3'), code('MANIFEST_NOT_FOUND', /team\/app:v3/));
    await assert.rejects(store.openBlob({ digest: sha256('nothing') }), code('BLOB_NOT_FOUND'));
    await store.deleteTag('v2');
    assert.deepEqual(await store.listTags(), ['v1']);

    if (needTool(t, 'skopeo')) {
      const out = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/team/app:v1`], { encoding: 'utf8' });
      assert.equal(out, manifest.toString());
    }
    // An HTTPS client meeting this plain-HTTP registry is told about --insecure-registry.
    const tlsClient = openRegistryStore({ host: reg.host, repository: 'team/app', retry });
    await assert.rejects(tlsClient.listTags(), code('TLS', new RegExp(`--insecure-registry ${reg.host}`)));
    await Promise.all([store.close(), tlsClient.close()]);
  } finally {
    await reg.stop();
  }
});

test('deleteTag on a registry with deletes disabled is UNSUPPORTED and leaves the tag', async (t) => {
  if (!needTool(t, 'docker-registry')) return;
  const reg = await startDockerRegistry({ deletes: false });
  try {
    const store = openRegistryStore({ host: reg.host, repository: 'team/app', insecure: true, retry });
    await pushImage(store, [randomBytes(100)], 'v1');
    await assert.rejects(store.deleteTag('v1'), code('UNSUPPORTED', /storage\.delete\.enabled/));
    assert.deepEqual(await store.listTags(), ['v1']);
    await store.close();
  } finally {
    await reg.stop();
  }
});

test('htpasswd Basic over TLS with a self-signed CA; without the CA the error is TLS', async (t) => {
  if (!needTool(t, 'docker-registry', 'htpasswd', 'openssl')) return;
  const reg = await startDockerRegistry({ tls: true, htpasswd: { ann: 'pass-1' } });
  try {
    const creds = staticCredentials({ [reg.host]: { kind: 'basic', username: 'ann', password: 'pass-1' } });
    const store = openRegistryStore({ host: reg.host, repository: 'secure/app', caCerts: [reg.caPem!], credentials: creds, retry });
    await pushImage(store, [randomBytes(50_000)], 'v1');
    assert.deepEqual(await store.listTags(), ['v1']);

    const noCa = openRegistryStore({ host: reg.host, repository: 'secure/app', credentials: creds, retry });
    await assert.rejects(noCa.listTags(), code('TLS', /--ca-cert/));
    // The CA in a file (NODE_EXTRA_CA_CERTS, which cairn reads itself), read at the first TLS connection.
    const caDir = await mkdtemp(join(tmpdir(), 'cairn-ca-file-'));
    await writeFile(join(caDir, 'ca.pem'), reg.caPem!);
    const caFile = openRegistryStore({ host: reg.host, repository: 'secure/app', caFiles: [join(caDir, 'ca.pem')], credentials: creds, retry });
    assert.deepEqual(await caFile.listTags(), ['v1']);
    const unreadable = openRegistryStore({ host: reg.host, repository: 'secure/app', caFiles: [join(caDir, 'missing.pem')], credentials: creds, retry });
    await assert.rejects(unreadable.listTags(), code('TLS', /--ca-cert/));
    await Promise.all([caFile.close(), unreadable.close(), rm(caDir, { recursive: true })]);
    const anonymous = openRegistryStore({ host: reg.host, repository: 'secure/app', caCerts: [reg.caPem!], retry });
    await assert.rejects(anonymous.listTags(), code('UNAUTHORIZED', new RegExp(`${reg.host}[^]*docker login ${reg.host}`)));
    const wrong = openRegistryStore({ host: reg.host, repository: 'secure/app', caCerts: [reg.caPem!], retry, credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'ann', password: 'nope' } }) });
    await assert.rejects(wrong.listTags(), code('UNAUTHORIZED', /rejected the credentials of user "ann"/));
    await Promise.all([store.close(), noCa.close(), anonymous.close(), wrong.close()]);
  } finally {
    await reg.stop();
  }
});

test('Bearer tokens: scopes asked per operation; a pull-only user cannot push', async (t) => {
  if (!needTool(t, 'docker-registry', 'openssl')) return;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-token-'));
  const policy = (user: string | undefined, repo: string): string[] => (user === 'writer' ? ['pull', 'push'] : user === 'reader' || repo.startsWith('public/') ? ['pull'] : []);
  const tokens = await TokenServer.start({ users: { writer: 'w-pass', reader: 'r-pass' }, policy }, dir);
  const reg = await startDockerRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } });
  try {
    const as = (user: string | undefined, repository: string) =>
      openRegistryStore({ host: reg.host, repository, insecure: true, retry, credentials: user ? staticCredentials({ [reg.host]: { kind: 'basic', username: user, password: user === 'writer' ? 'w-pass' : 'r-pass' } }) : undefined });
    const writer = as('writer', 'team/app');
    const layer = randomBytes(20_000);
    await pushImage(writer, [layer], 'v1');
    assert.deepEqual(tokens.requests.map((r) => [r.user, r.scopes.join(' ')]), [
      ['writer', 'repository:team/app:pull'],
      ['writer', 'repository:team/app:pull,push'],
    ]);

    const reader = as('reader', 'team/app');
    assert.deepEqual(await reader.listTags(), ['v1']);
    const other = randomBytes(1000);
    await assert.rejects(reader.putBlob({ digest: sha256(other), size: other.length }, async () => Readable.from([other])), code(['DENIED', 'UNAUTHORIZED'], /reader/));
    assert.deepEqual(tokens.requests.filter((r) => r.user === 'reader').at(-1)!.granted, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);

    const anonymous = as(undefined, 'team/app');
    await assert.rejects(anonymous.listTags(), code(['DENIED', 'UNAUTHORIZED'], /anonymous access|requires authentication/));
    const bad = openRegistryStore({ host: reg.host, repository: 'team/app', insecure: true, retry, credentials: staticCredentials({ [reg.host]: { kind: 'basic', username: 'writer', password: 'wrong' } }) });
    await assert.rejects(bad.listTags(), code('UNAUTHORIZED', /rejected the credentials of user "writer"/));
    await Promise.all([writer.close(), reader.close(), anonymous.close(), bad.close()]);
  } finally {
    await reg.stop();
    await tokens.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('layers already in another repository are mounted, not uploaded (bytes counted by a proxy)', async (t) => {
  if (!needTool(t, 'docker-registry', 'openssl')) return;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-token-'));
  const tokens = await TokenServer.start({ users: { dev: 'pw' }, policy: (u) => (u ? ['pull', 'push'] : []) }, dir);
  const reg = await startDockerRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } });
  const proxy = await CountingProxy.start(reg.host);
  try {
    const open = (repository: string) => openRegistryStore({ host: proxy.host, repository, insecure: true, retry, chunkSize: 1 << 20, credentials: staticCredentials({ [proxy.host]: { kind: 'basic', username: 'dev', password: 'pw' } }) });
    const layers = [randomBytes(3 << 20), randomBytes(2 << 20)];
    const base = open('base/run');
    await pushImage(base, layers, 'latest');
    const layerBytes = layers.reduce((n, l) => n + l.length, 0);
    const firstPush = proxy.bytes().requestBytes;
    assert.ok(firstPush >= layerBytes, `the first push uploaded ${firstPush} bytes`);

    const mark = proxy.records.length;
    const app = open('team/app');
    const manifest = await pushImage(app, layers, 'v1', { mountFrom: 'base/run' });
    const second = proxy.records.slice(mark);
    const uploaded = second.reduce((n, r) => n + r.requestBytes, 0);
    assert.ok(uploaded < 4096, `the second push sent ${uploaded} bytes (config + manifest only)`);
    assert.equal(second.filter((r) => r.method === 'POST' && r.path.includes('mount=') && r.status === 201).length, 2);
    assert.equal(second.filter((r) => r.method === 'PATCH').length, 0);
    assert.ok(tokens.requests.some((r) => r.scopes.includes('repository:team/app:pull,push') && r.scopes.includes('repository:base/run:pull')));
    for (const l of layers) assert.equal(await app.statBlob(sha256(l)), l.length);
    assert.deepEqual((await app.getManifest('v1')).bytes, manifest);
    await Promise.all([base.close(), app.close()]);
  } finally {
    await proxy.stop();
    await reg.stop();
    await tokens.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
