/**
 * A Bearer token server for the real docker-registry (distribution "Token Authentication Specification" and
 * "Token Authentication Implementation"). It answers `GET /token?service=…&scope=…` (Basic credentials optional)
 * with a JWT signed by an EC P-256 key whose self-signed certificate is the registry's `rootcertbundle`.
 *
 * distribution 2.8 finds the verification key through the JWT header: either `kid` = the libtrust key ID of a
 * root certificate's public key (base32 of the first 240 bits of sha256(SPKI DER), in 12 groups of 4 joined by
 * ':'), or an `x5c` chain ending in a root. Both work (`mode`); `kid` is the default.
 *
 * Grants only what `policy(user, repository)` allows, and records every request's scopes and grants.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface TokenServerOptions {
  /** user → password; requests without credentials are anonymous (user undefined). */
  users: Record<string, string>;
  /** Actions (`pull`, `push`, `delete`, `*`) a user may take on a repository. */
  policy: (user: string | undefined, repository: string) => string[];
  service?: string;
  issuer?: string;
  ttlSeconds?: number;
  mode?: 'kid' | 'x5c';
}

export interface TokenRequest {
  user: string | undefined;
  scopes: string[];
  granted: Array<{ type: string; name: string; actions: string[] }>;
}

/** The libtrust key ID of a public key (docker/libtrust `keyIDFromCryptoKey`). */
export function libtrustKeyId(spkiDer: Buffer): string {
  const hash = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of hash) bits += byte.toString(2).padStart(8, '0');
  let b32 = '';
  for (let i = 0; i < bits.length; i += 5) b32 += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return b32.match(/.{4}/g)!.join(':');
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class TokenServer {
  readonly requests: TokenRequest[] = [];
  readonly service: string;
  readonly issuer: string;
  /** PEM file to give the registry as `rootcertbundle`. */
  readonly rootCertBundle: string;
  realm = '';
  private server!: Server;
  private readonly key: ReturnType<typeof createPrivateKey>;
  private readonly header: Record<string, unknown>;

  private constructor(private readonly opts: TokenServerOptions, dir: string) {
    this.service = opts.service ?? 'cairn-test-registry';
    this.issuer = opts.issuer ?? 'cairn-test-token-server';
    this.rootCertBundle = join(dir, 'token-signer.pem');
    const keyFile = join(dir, 'token-signer.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile,
      '-out', this.rootCertBundle, '-days', '2', '-subj', '/CN=cairn test token signer'], { stdio: 'pipe' });
    this.key = createPrivateKey(readFileSync(keyFile));
    const cert = new X509Certificate(readFileSync(this.rootCertBundle));
    this.header = opts.mode === 'x5c'
      ? { typ: 'JWT', alg: 'ES256', x5c: [cert.raw.toString('base64')] }
      : { typ: 'JWT', alg: 'ES256', kid: libtrustKeyId(createPublicKey(this.key).export({ type: 'spki', format: 'der' })) };
  }

  /** Starts on 127.0.0.1; `dir` (a temp dir the caller removes) receives the signing key and certificate. */
  static async start(opts: TokenServerOptions, dir: string): Promise<TokenServer> {
    const s = new TokenServer(opts, dir);
    s.server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const auth = req.headers.authorization;
      let user: string | undefined;
      if (auth?.startsWith('Basic ')) {
        const decoded = Buffer.from(auth.slice(6), 'base64').toString();
        const colon = decoded.indexOf(':');
        const name = decoded.slice(0, colon);
        if (colon < 0 || s.opts.users[name] !== decoded.slice(colon + 1)) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ details: 'invalid username or password' }));
        }
        user = name;
      }
      const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      const granted = s.grant(user, scopes);
      s.requests.push({ user, scopes, granted });
      const token = s.sign(user, granted);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, access_token: token, expires_in: s.opts.ttlSeconds ?? 300, issued_at: new Date().toISOString() }));
    });
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.realm = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}/token`;
    return s;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private grant(user: string | undefined, scopes: string[]): TokenRequest['granted'] {
    return scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name || !actions) return [];
      const allowed = this.opts.policy(user, name);
      const ok = actions.split(',').filter((a) => allowed.includes(a) || allowed.includes('*'));
      return ok.length ? [{ type, name, actions: ok }] : [];
    });
  }

  private sign(user: string | undefined, access: TokenRequest['granted']): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.issuer, sub: user ?? '', aud: this.service, exp: now + (this.opts.ttlSeconds ?? 300), nbf: now - 60, iat: now,
      jti: randomUUID(), access,
    };
    const input = `${b64url(JSON.stringify(this.header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(signature)}`;
  }
}
