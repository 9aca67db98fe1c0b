/**
 * Registry credentials, as Docker's config.json and credential helpers hold them. A CredentialSource is
 * asked lazily, only when a registry challenges for authentication.
 */

export type Credential =
  /** HTTP Basic, or the username/password sent to a Bearer token server. */
  | { kind: 'basic'; username: string; password: string }
  /** An OAuth2 refresh token (`identitytoken` in config.json), exchanged at the token server. */
  | { kind: 'identity-token'; token: string }
  /** A ready Bearer token for the registry (`registrytoken` in config.json), sent as is. */
  | { kind: 'registry-token'; token: string };

/** Looks up the credential for a registry host as written in references (`docker.io`, `127.0.0.1:5000`). */
export type CredentialSource = (host: string) => Promise<Credential | undefined>;

/** A fixed host → credential map (e.g. from `--creds user:pass`). */
export function staticCredentials(byHost: Record<string, Credential>): CredentialSource {
  return async (host) => byHost[host];
}

/** Tries each source in turn; the first that knows the host wins. */
export function chainCredentials(...sources: CredentialSource[]): CredentialSource {
  return async (host) => {
    for (const source of sources) {
      const c = await source(host);
      if (c) return c;
    }
    return undefined;
  };
}

/** A short description for messages; never includes a secret. */
export function describeCredential(c: Credential | undefined): string {
  if (!c) return 'anonymous access';
  if (c.kind === 'basic') return `user "${c.username}"`;
  return c.kind === 'identity-token' ? 'the identity token' : 'the registry token';
}
