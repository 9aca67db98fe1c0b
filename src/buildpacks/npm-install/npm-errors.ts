/**
 * npm failures in words: what failed, why (npm's own lines), and what to do. Recognised: a lockfile out of
 * sync with package.json, an unreachable or refusing registry, a missing package, an integrity mismatch, a
 * native addon that fails to compile; anything else shows npm's output as it is.
 */
import { BuildpackError } from '../sdk/index.js';

/** The last lines of npm's output: the part that says why. */
export function tail(output: string, lines = 40): string {
  const all = output.trimEnd().split('\n');
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n');
}

export function npmFailure(command: string, code: number, output: string, lockfileName: string | undefined): BuildpackError {
  const out = tail(output);
  if (/can only install packages when your package\.json and (package-lock\.json|npm-shrinkwrap\.json)|are in sync|Missing: .* from lock file|Invalid: lock file's/i.test(output)) {
    const lock = lockfileName ?? 'package-lock.json';
    const why = output.split('\n').filter((l) => /in sync|Invalid:|Missing:/.test(l));
    return new BuildpackError(`${lock} is out of sync with package.json: \`${command}\` installs exactly what the lockfile lists, and it does not match package.json`, {
      output: why.join('\n'),
      hint: `run \`npm install\` in the project to update ${lock}, commit it, and build again`,
    });
  }
  const net = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_HAS_EXPIRED)\b|request to (\S+) failed/.exec(output);
  if (net) {
    const url = /request to (\S+) failed/.exec(output)?.[1];
    const tls = /CERT|certificate/.test(net[0]);
    return new BuildpackError(`\`${command}\` cannot reach the npm registry${url ? ` (${url.replace(/,$/, '')})` : ''}: ${net[1] ?? 'network error'}`, {
      output: out,
      hint: tls
        ? 'the registry\'s TLS certificate is not trusted in the build: pass your CA certificate into the build (NODE_EXTRA_CA_CERTS via the platform env) instead of turning verification off'
        : 'check the network, proxy settings (HTTPS_PROXY, NO_PROXY) and the registry in .npmrc or npm_config_registry; for offline builds use a registry mirror reachable from the build',
    });
  }
  if (/\bE404\b|404 Not Found/.test(output)) {
    return new BuildpackError(`\`${command}\` failed: a package or version was not found in the registry`, { output: out, hint: 'check the dependency names and versions in package.json, and that the registry (or mirror) has them' });
  }
  if (/\bEINTEGRITY\b/.test(output)) {
    return new BuildpackError(`\`${command}\` failed: a downloaded package does not match the integrity recorded in the lockfile`, { output: out, hint: 'the registry served different bytes than when the lockfile was written; regenerate the lockfile if the change is expected' });
  }
  if (/gyp (ERR|info)|node-gyp|make: \*\*\*|g\+\+|gcc/.test(output) && /gyp ERR|make: \*\*\*|error:/.test(output)) {
    return new BuildpackError(`\`${command}\` failed while building a native addon`, {
      output: out,
      hint: 'native addons need python3, make and a C++ compiler in the build image, and a version of the addon that supports this Node.js version',
    });
  }
  return new BuildpackError(`\`${command}\` failed (exit code ${code})`, { output: out, hint: 'npm\'s output above says why' });
}
