import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { getFromCredentialHelper } from '../../../src/oci/auth/credential-helper.js';
import type { Credential } from '../../../src/oci/auth/credentials.js';
import { credentialFromDockerConfig, dockerConfigCredentials, dockerConfigPath, type DockerConfigFile } from '../../../src/oci/auth/docker-config.js';
import { CairnError } from '../../../src/oci/errors.js';

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'cairn-auth-'))));
after(() => rm(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');
const noHelper = async (): Promise<Credential | undefined> => assert.fail('no helper expected');

test('config.json location: $DOCKER_CONFIG wins over the home directory', () => {
  assert.equal(dockerConfigPath({ homeDir: '/home/u' }), '/home/u/.docker/config.json');
  assert.equal(dockerConfigPath({ homeDir: '/home/u', dockerConfigDir: '/etc/dc' }), '/etc/dc/config.json');
  assert.equal(dockerConfigPath({}), undefined);
});

test('auths: base64 auth, username/password, identitytoken, registrytoken; keys with scheme and path', async () => {
  const config: DockerConfigFile = {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
      'http://127.0.0.1:5000/v2/': { username: 'u', password: 'p' },
      'ghcr.io': { identitytoken: 'refresh-me' },
      'quay.io': { registrytoken: 'bearer-me' },
      'empty.example': {},
    },
  };
  assert.deepEqual(await credentialFromDockerConfig(config, 'docker.io', noHelper), { kind: 'basic', username: 'hubuser', password: 'hub:pass' });
  assert.deepEqual(await credentialFromDockerConfig(config, 'index.docker.io', noHelper), { kind: 'basic', username: 'hubuser', password: 'hub:pass' });
  assert.deepEqual(await credentialFromDockerConfig(config, '127.0.0.1:5000', noHelper), { kind: 'basic', username: 'u', password: 'p' });
  assert.deepEqual(await credentialFromDockerConfig(config, 'ghcr.io', noHelper), { kind: 'identity-token', token: 'refresh-me' });
  assert.deepEqual(await credentialFromDockerConfig(config, 'quay.io', noHelper), { kind: 'registry-token', token: 'bearer-me' });
  assert.equal(await credentialFromDockerConfig(config, 'empty.example', noHelper), undefined);
  assert.equal(await credentialFromDockerConfig(config, 'other.example', noHelper), undefined);
  await assert.rejects(credentialFromDockerConfig({ auths: { 'bad.example': { auth: b64('nocolon') } } }, 'bad.example', noHelper), (e: unknown) => e instanceof CairnError && /not base64 of "user:password"/.test(e.message));
});

test('credHelpers win, then credsStore, then auths; helpers get Docker\'s server URL', async () => {
  const calls: string[] = [];
  const helper = async (name: string, server: string): Promise<Credential | undefined> => {
    calls.push(`${name} ${server}`);
    return name === 'store' && server === 'known.example' ? { kind: 'basic', username: 'from-store', password: 'x' } : undefined;
  };
  const config: DockerConfigFile = {
    credHelpers: { 'gcr.io': 'gcloud', 'docker.io': 'hubhelper' },
    credsStore: 'store',
    auths: { 'fallback.example': { username: 'file', password: 'y' } },
  };
  assert.equal(await credentialFromDockerConfig(config, 'gcr.io', helper), undefined);
  assert.equal(await credentialFromDockerConfig(config, 'docker.io', helper), undefined);
  assert.deepEqual(await credentialFromDockerConfig(config, 'known.example', helper), { kind: 'basic', username: 'from-store', password: 'x' });
  assert.deepEqual(await credentialFromDockerConfig(config, 'fallback.example', helper), { kind: 'basic', username: 'file', password: 'y' });
  assert.deepEqual(calls, ['gcloud gcr.io', 'hubhelper https://index.docker.io/v1/', 'store known.example', 'store fallback.example']);
});

test('dockerConfigCredentials reads the file once; a missing file means no credentials', async () => {
  const home = join(dir, 'home');
  await mkdir(join(home, '.docker'), { recursive: true });
  await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'r.example': { auth: b64('a:b') } } }));
  const source = dockerConfigCredentials({ homeDir: home }, noHelper);
  assert.deepEqual(await source('r.example'), { kind: 'basic', username: 'a', password: 'b' });
  assert.equal(await dockerConfigCredentials({ homeDir: join(dir, 'nobody') }, noHelper)('r.example'), undefined);
  await mkdir(join(dir, 'dc'));
  await writeFile(join(dir, 'dc', 'config.json'), '{');
  await assert.rejects(dockerConfigCredentials({ dockerConfigDir: join(dir, 'dc') }, noHelper)('r.example'), (e: unknown) => e instanceof CairnError && /dc\/config\.json is not valid JSON/.test(e.message));
});

test('docker-credential-<name> get: stdin/stdout protocol, <token> usernames, not-found, failures', async () => {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const script = `#!/bin/sh
[ "$1" = get ] || exit 3
read server
case "$server" in
  user.example) printf '{"ServerURL":"%s","Username":"ann","Secret":"s3cret"}' "$server" ;;
  token.example) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh"}' "$server" ;;
  broken.example) echo "keychain locked" >&2; exit 1 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  await writeFile(join(bin, 'docker-credential-test'), script);
  await chmod(join(bin, 'docker-credential-test'), 0o755);
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  assert.deepEqual(await getFromCredentialHelper('test', 'user.example', { env }), { kind: 'basic', username: 'ann', password: 's3cret' });
  assert.deepEqual(await getFromCredentialHelper('test', 'token.example', { env }), { kind: 'identity-token', token: 'refresh' });
  assert.equal(await getFromCredentialHelper('test', 'other.example', { env }), undefined);
  await assert.rejects(getFromCredentialHelper('test', 'broken.example', { env }), (e: unknown) => e instanceof CairnError && e.code === 'CREDENTIAL_HELPER' && /keychain locked/.test(e.message));
  await assert.rejects(getFromCredentialHelper('absent', 'x', { env }), (e: unknown) => e instanceof CairnError && e.code === 'CREDENTIAL_HELPER' && /install docker-credential-absent/.test(e.hint ?? ''));
  await assert.rejects(getFromCredentialHelper('../evil', 'x', { env }), (e: unknown) => e instanceof CairnError && e.code === 'CREDENTIAL_HELPER');
});
