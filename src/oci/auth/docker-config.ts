/**
 * Credentials from Docker's client config (docker/cli `config/configfile`): `$DOCKER_CONFIG/config.json` when
 * DOCKER_CONFIG is set, else `<home>/.docker/config.json`. Lookup order for a registry, as the docker CLI:
 * `credHelpers[host]`, then `credsStore`, then the `auths` entry (`auth` = base64 "user:password", or
 * `username`/`password`, or `identitytoken`, or `registrytoken`). Docker Hub is keyed `https://index.docker.io/v1/`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../errors.js';
import { getFromCredentialHelper, type CredentialHelperRunner } from './credential-helper.js';
import type { Credential, CredentialSource } from './credentials.js';

export interface DockerConfigLocation {
  /** The user's home directory (the CLI passes os.homedir()). */
  homeDir?: string;
  /** The value of $DOCKER_CONFIG, when set. */
  dockerConfigDir?: string;
}

export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The config.json path Docker would use, or undefined when neither location is known. */
export function dockerConfigPath(loc: DockerConfigLocation): string | undefined {
  if (loc.dockerConfigDir) return join(loc.dockerConfigDir, 'config.json');
  if (loc.homeDir) return join(loc.homeDir, '.docker', 'config.json');
  return undefined;
}

/** Reads a config.json; a missing file is an empty config, a malformed one an error naming the file. */
export async function readDockerConfig(path: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CairnError('IO', `cannot read Docker config ${path}`, { cause: e });
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch (e) {
    throw new CairnError('INVALID_ARGUMENT', `Docker config ${path} is not valid JSON`, { cause: e, hint: 'fix or remove the file' });
  }
}

/** The server URL Docker uses for a host in config.json keys and helper calls. */
export function dockerServerUrl(host: string): string {
  return DOCKER_HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host;
}

/** Normalizes a config.json `auths` key (`https://host/v1/`, `http://host`, `host`) to a host. */
function keyHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
  return DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host;
}

/** The credential a config.json gives for a host, running helpers through `runHelper`. */
export async function credentialFromDockerConfig(config: DockerConfigFile, host: string, runHelper: CredentialHelperRunner): Promise<Credential | undefined> {
  const server = dockerServerUrl(host);
  const wanted = keyHost(host);
  const helper = Object.entries(config.credHelpers ?? {}).find(([k]) => keyHost(k) === wanted)?.[1];
  if (helper) return runHelper(helper, server);
  if (config.credsStore) {
    const c = await runHelper(config.credsStore, server);
    if (c) return c;
  }
  const auths = config.auths ?? {};
  const entry = auths[server] ?? Object.entries(auths).find(([k]) => keyHost(k) === wanted)?.[1];
  return entry ? fromAuthEntry(entry, server) : undefined;
}

function fromAuthEntry(e: DockerAuthEntry, server: string): Credential | undefined {
  if (e.identitytoken) return { kind: 'identity-token', token: e.identitytoken };
  if (e.registrytoken) return { kind: 'registry-token', token: e.registrytoken };
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new CairnError('INVALID_ARGUMENT', `the "auth" entry for ${server} in Docker config.json is not base64 of "user:password"`, {
        hint: `run "docker login ${server}" again, or fix the entry`,
      });
    }
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (e.username !== undefined && e.password !== undefined) return { kind: 'basic', username: e.username, password: e.password };
  return undefined;
}

/**
 * A CredentialSource over the user's Docker config. The file is read once, on the first lookup.
 * `runHelper` defaults to spawning `docker-credential-<name>` with this process's environment.
 */
export function dockerConfigCredentials(loc: DockerConfigLocation, runHelper: CredentialHelperRunner = getFromCredentialHelper): CredentialSource {
  const path = dockerConfigPath(loc);
  let config: Promise<DockerConfigFile> | undefined;
  return async (host) => {
    if (!path) return undefined;
    config ??= readDockerConfig(path);
    return credentialFromDockerConfig(await config, host, runHelper);
  };
}
