/**
 * Docker credential helpers (github.com/docker/docker-credential-helpers protocol): `docker-credential-<name> get`
 * reads the server URL on stdin and prints `{"ServerURL","Username","Secret"}` on stdout. A Username of
 * `<token>` means Secret is an identity (refresh) token. "credentials not found" means the helper has none.
 */
import { spawn } from 'node:child_process';
import { CairnError } from '../errors.js';
import type { Credential } from './credentials.js';

export interface CredentialHelperOptions {
  /** Environment of the helper process (the CLI passes its own); defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  /** Kills a helper that hangs (e.g. waiting for a desktop keychain prompt). Default 30 s. */
  timeoutMs?: number;
}

/** Signature of `getFromCredentialHelper`, injectable for tests. */
export type CredentialHelperRunner = (helper: string, serverUrl: string) => Promise<Credential | undefined>;

const NOT_FOUND = /credentials not found/i;

export async function getFromCredentialHelper(helper: string, serverUrl: string, opts: CredentialHelperOptions = {}): Promise<Credential | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new CairnError('CREDENTIAL_HELPER', `invalid credential helper name "${helper}"`, { hint: 'fix credsStore / credHelpers in your Docker config.json' });
  }
  const program = `docker-credential-${helper}`;
  const { code, stdout, stderr, spawnError } = await run(program, serverUrl, opts);
  if (spawnError) {
    throw new CairnError('CREDENTIAL_HELPER', `cannot run credential helper ${program} for ${serverUrl}: ${spawnError.message}`, {
      cause: spawnError,
      hint: `install ${program} on PATH, or remove it from credsStore / credHelpers in your Docker config.json`,
    });
  }
  if (code !== 0) {
    if (NOT_FOUND.test(stdout) || NOT_FOUND.test(stderr)) return undefined;
    throw new CairnError('CREDENTIAL_HELPER', `credential helper ${program} failed for ${serverUrl} (exit ${code}): ${(stderr || stdout).trim()}`, {
      hint: `run "echo ${serverUrl} | ${program} get" to see the problem`,
    });
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch (e) {
    throw new CairnError('CREDENTIAL_HELPER', `credential helper ${program} printed invalid JSON for ${serverUrl}`, { cause: e });
  }
  const username = typeof parsed.Username === 'string' ? parsed.Username : '';
  const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
  if (!secret) return undefined;
  if (username === '<token>') return { kind: 'identity-token', token: secret };
  return { kind: 'basic', username, password: secret };
}

function run(program: string, input: string, opts: CredentialHelperOptions): Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(program, ['get'], { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `timed out after ${opts.timeoutMs ?? 30_000} ms`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    const finish = (result: { code: number | null; stdout: string; stderr: string; spawnError?: Error }): void => {
      clearTimeout(timer);
      resolve(result);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => { /* the helper may exit without reading; its exit status tells */ });
    child.on('error', (spawnError) => finish({ code: null, stdout, stderr, spawnError }));
    child.on('close', (code) => finish({ code, stdout, stderr }));
    child.stdin.end(input + '\n');
  });
}
