/**
 * yarn failures in words: a lockfile out of sync with package.json (classic `--frozen-lockfile`, berry
 * `--immutable`: YN0028), an unreachable registry, a package missing from the registry; anything else shows
 * the last lines of yarn's output.
 */
import { BuildpackError, outputTail } from '../sdk/index.js';

export function yarnFailure(command: string, code: number, output: string): BuildpackError {
  const out = outputTail(output);
  if (/Your lockfile needs to be updated|YN0028|lockfile would have been (modified|created)/i.test(output)) {
    return new BuildpackError(`yarn.lock is out of sync with package.json: \`${command}\` installs exactly what the lockfile lists, and package.json asks for something else`, {
      output: out,
      hint: 'run `yarn install` in the project to update yarn.lock, commit it, and build again',
    });
  }
  if (/\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\b|YN0001.*(RequestError|HTTPError)/.test(output)) {
    return new BuildpackError(`\`${command}\` cannot reach the registry`, {
      output: out,
      hint: 'check the network and proxy settings, and the registry (npm_config_registry; YARN_REGISTRY for yarn 1, YARN_NPM_REGISTRY_SERVER for yarn 2+); a TLS error needs your CA certificate passed into the build (NODE_EXTRA_CA_CERTS)',
    });
  }
  if (/\b404\b|YN0035/.test(output)) {
    return new BuildpackError(`\`${command}\` failed: a package or version was not found in the registry`, { output: out, hint: 'check the dependency names and versions in package.json, and that the registry (or mirror) has them' });
  }
  return new BuildpackError(`\`${command}\` failed (exit code ${code})`, { output: out, hint: 'yarn\'s output above says why; run the same command locally to reproduce' });
}
