/** The app's version hints, read from the app folder and the user's settings. */
import { join } from 'node:path';
import { type Context, readJsonIfExists, readTextIfExists } from '../sdk/index.js';
import { nodeVersionRequest, type VersionInputs } from './version-request.js';

export async function readVersionInputs(ctx: Context): Promise<VersionInputs & { hasPackageJson: boolean }> {
  const pkg = await readJsonIfExists<{ engines?: { node?: unknown } }>(join(ctx.appDir, 'package.json'), 'package.json');
  const engines = pkg?.engines && typeof pkg.engines === 'object' ? pkg.engines : undefined;
  return {
    hasPackageJson: pkg !== undefined,
    bpNodeVersion: ctx.config('BP_NODE_VERSION'),
    ...(engines && 'node' in engines ? { enginesNode: engines.node } : {}),
    nvmrc: await readTextIfExists(join(ctx.appDir, '.nvmrc')),
    nodeVersionFile: await readTextIfExists(join(ctx.appDir, '.node-version')),
  };
}

export { nodeVersionRequest };
