/**
 * Registry authentication (distribution "Token Authentication Specification" and "OAuth2 Token" docs).
 * For a host cairn holds credentials for, the first request pings `GET /v2/` to learn the challenge (a
 * registry may hide a private repository behind a 404 from anonymous requests, and never challenge them).
 * For any other host no ping is made: requests go out anonymously, and a 401 carries the challenge, adopted
 * as if a ping had brought it — a round trip saved on every command against a public or local registry.
 * The challenge:
 * - 200: no authentication;
 * - `Basic`: the host's credentials go on every request;
 * - `Bearer realm,service`: a token for `scope=repository:<repo>:<actions>` (one `scope` per repository, e.g.
 *   the source repository of a cross-repo mount) is fetched from the realm — anonymously, with Basic credentials
 *   (GET), or with an identity token (POST grant_type=refresh_token) — and cached per scope set until shortly
 *   before `expires_in` (default 60 s) runs out.
 * After a 401 the client calls `reset` (new challenge, token dropped) and retries once; a second 401 becomes
 * `unauthorizedError`.
 * A ping or token request that fails transiently is not retried here: the failure is the request's that needed
 * it, and is retried within that request's budget (a budget of its own would multiply the tries: 5 × 5 against
 * a registry that never answers). A failed ping or token is forgotten, so the retry asks again.
 */
import { parseChallenges, type Challenge } from '../../auth/challenge.js';
import { describeCredential, type Credential, type CredentialSource } from '../../auth/credentials.js';
import type { TransferOptions } from '../store.js';
import { httpError, RegistryError } from './errors.js';
import type { HttpClient } from './http.js';

export interface AuthOptions {
  /** Registry host as the user wrote it: credential lookups and messages use it. */
  host: string;
  /** `https://<api host>` or `http://…`. */
  base: URL;
  http: HttpClient;
  credentials: CredentialSource | undefined;
}

export class Authenticator {
  private challenge: Promise<Challenge | undefined> | undefined;
  private credential: Promise<Credential | undefined> | undefined;
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(private readonly opts: AuthOptions) {}

  /**
   * Starts the ping (when there are credentials) if none is under way or done; a failed one is forgotten, so
   * the next request pings again.
   */
  prepare(opts: TransferOptions): void {
    this.challenge ??= this.firstChallenge(opts);
  }

  /** The Authorization header value for a request that needs `scopes`, or undefined for none. */
  async authorization(scopes: string[], opts: TransferOptions): Promise<string | undefined> {
    const ch = await (this.challenge ??= this.firstChallenge(opts));
    if (!ch) return undefined;
    const cred = await this.getCredential();
    if (ch.scheme === 'basic') {
      return cred?.kind === 'basic' ? 'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64') : undefined;
    }
    if (cred?.kind === 'registry-token') return `Bearer ${cred.token}`;
    const key = [...scopes].sort().join(' ');
    let token = this.tokens.get(key);
    if (!token) {
      token = this.fetchToken(ch, scopes, cred, key, opts);
      this.tokens.set(key, token);
      const mine = token;
      token.catch(() => this.tokens.get(key) === mine && this.tokens.delete(key));
    }
    return `Bearer ${await token}`;
  }

  /**
   * After a 401: adopt the challenge it carried and forget the token for `scopes`, unless the refused request
   * carried none (`sent` undefined): then a token fetched meanwhile, by a concurrent request, is kept.
   */
  reset(scopes: string[], challenge: Challenge | undefined, sent: string | undefined): void {
    if (challenge) this.challenge = Promise.resolve(challenge);
    if (sent !== undefined) this.tokens.delete([...scopes].sort().join(' '));
  }

  /** The error for a request still refused after re-authenticating. */
  async unauthorizedError(what: string, challenge: Challenge | undefined, scopes: string[]): Promise<RegistryError> {
    const cred = await this.getCredential();
    const host = this.opts.host;
    if (challenge?.params.error === 'insufficient_scope' && cred) {
      return new RegistryError('DENIED', `${what} failed: ${host} did not grant ${scopes.join(' ')} to ${describeCredential(cred)}`, {
        status: 401,
        hint: `the account lacks this permission on ${host}; grant it, or log in as another user with "docker login ${host}"`,
      });
    }
    return unauthorized(what, host, cred);
  }

  private getCredential(): Promise<Credential | undefined> {
    return (this.credential ??= this.opts.credentials?.(this.opts.host) ?? Promise.resolve(undefined));
  }

  /** The ping's challenge for a host with credentials; none (anonymous until a 401 says otherwise) for others. */
  private firstChallenge(opts: TransferOptions): Promise<Challenge | undefined> {
    const first = this.getCredential().then((cred) => (cred ? this.ping(opts) : undefined));
    first.catch(() => (this.challenge = undefined)); // a failed ping is tried again by the next request
    return first;
  }

  private async ping(opts: TransferOptions): Promise<Challenge | undefined> {
    const what = `GET ${this.opts.host}/v2/`;
    const res = await this.opts.http.exchange({ method: 'GET', url: new URL('/v2/', this.opts.base), what, signal: opts.signal });
    const body = await res.body.text();
    if (res.status === 401) {
      const challenges = parseChallenges(res.headers['www-authenticate']);
      return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    }
    if (res.status === 429 || res.status >= 500) throw httpError(res.status, res.headers, body, { what, host: this.opts.host });
    return undefined; // 200, or a registry that answers /v2/ oddly: the real requests will tell
  }

  private async fetchToken(ch: Challenge, scopes: string[], cred: Credential | undefined, key: string, opts: TransferOptions): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError('REGISTRY_ERROR', `${this.opts.host} sent a Bearer challenge without a realm`);
    const url = new URL(realm);
    const what = `GET token from ${url.host} for ${scopes.join(' ')}`;
    const headers: Record<string, string> = {};
    let body: Buffer | undefined;
    let method = 'GET';
    if (cred?.kind === 'identity-token') {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.token, client_id: 'cairn', scope: scopes.join(' ') });
      if (ch.params.service) form.set('service', ch.params.service);
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (ch.params.service) url.searchParams.set('service', ch.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (cred?.kind === 'basic') {
        url.searchParams.set('account', cred.username);
        headers.authorization = 'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64');
      }
    }
    const parsed = await (async () => {
      const res = await this.opts.http.exchange({ method, url, headers, body, what, signal: opts.signal });
      const text = await res.body.text();
      if (res.status === 401 || res.status === 403) throw unauthorized(what, this.opts.host, cred);
      if (res.status !== 200) throw httpError(res.status, res.headers, text, { what, host: this.opts.host });
      try {
        return JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
      } catch (e) {
        throw new RegistryError('REGISTRY_ERROR', `${what}: the token server answered with invalid JSON`, { cause: e });
      }
    })();
    const token = parsed.token || parsed.access_token;
    if (!token) throw new RegistryError('REGISTRY_ERROR', `${what}: the token server's answer has no token`);
    const lifetimeMs = (typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60) * 1000;
    const current = this.tokens.get(key);
    setTimeout(() => this.tokens.get(key) === current && this.tokens.delete(key), Math.max(lifetimeMs - 10_000, lifetimeMs / 2)).unref();
    return token;
  }
}

function unauthorized(what: string, host: string, cred: Credential | undefined): RegistryError {
  if (!cred) {
    return new RegistryError('UNAUTHORIZED', `${what} failed: registry ${host} requires authentication and no credentials were found for it`, {
      status: 401,
      hint: `run "docker login ${host}", or add credentials for ${host} to ~/.docker/config.json (or $DOCKER_CONFIG/config.json)`,
    });
  }
  return new RegistryError('UNAUTHORIZED', `${what} failed: registry ${host} rejected the credentials of ${describeCredential(cred)}`, {
    status: 401,
    hint: `check the credentials for ${host} in ~/.docker/config.json (or $DOCKER_CONFIG/config.json), or run "docker login ${host}" again`,
  });
}
