/**
 * pnpm failures in words: a lockfile out of sync with package.json (ERR_PNPM_OUTDATED_LOCKFILE and kin), an
 * unreachable registry, a missing package; anything else shows the last lines of pnpm's output.
 */
import { BuildpackError, outputTail } from '../sdk/index.js';

export function pnpmFailure(command: string, code: number, output: string): BuildpackError {
  const out = outputTail(output);
  if (/ERR_PNPM_(OUTDATED_LOCKFILE|LOCKFILE_CONFIG_MISMATCH|LOCKFILE_MISSING_DEPENDENCY)|not up to date with package\.json/.test(output)) {
    return new BuildpackError(`pnpm-lock.yaml is out of sync with package.json: \`${command}\` installs exactly what the lockfile lists, and package.json asks for something else`, {
      output: out,
      hint: 'run `pnpm install` in the project to update pnpm-lock.yaml, commit it, and build again',
    });
  }
  if (/\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\b|ERR_PNPM_META_FETCH_FAIL/.test(output)) {
    return new BuildpackError(`\`${command}\` cannot reach the registry`, {
      output: out,
      hint: 'check the network and proxy settings and the registry (npm_config_registry, .npmrc); a TLS error needs your CA certificate passed into the build (NODE_EXTRA_CA_CERTS)',
    });
  }
  if (/ERR_PNPM_FETCH_404|ERR_PNPM_NO_MATCHING_VERSION/.test(output)) {
    return new BuildpackError(`\`${command}\` failed: a package or version was not found in the registry`, { output: out, hint: 'check the dependency names and versions in package.json, and that the registry (or mirror) has them' });
  }
  return new BuildpackError(`\`${command}\` failed (exit code ${code})`, { output: out, hint: 'pnpm\'s output above says why; run the same command locally to reproduce' });
}
