/**
 * cairn/node-engine detect: always applies and provides `node`. It also requires `node` itself (carrying
 * the requested version and its source) when the app says it is a Node.js app: a package.json, `.nvmrc`,
 * `.node-version`, or `BP_NODE_VERSION`. Otherwise `node` must be required by a later buildpack
 * (npm-install, node-start), or the group does not resolve.
 */
import type { DetectContext, DetectResult } from '../sdk/index.js';
import { nodeVersionRequest, readVersionInputs } from './inputs.js';

export async function detect(ctx: DetectContext): Promise<DetectResult> {
  const inputs = await readVersionInputs(ctx);
  const hinted = inputs.hasPackageJson || inputs.bpNodeVersion !== undefined || inputs.nvmrc !== undefined || inputs.nodeVersionFile !== undefined;
  if (!hinted) return { pass: true, plan: { provides: [{ name: 'node' }], requires: [] } };
  // An unusable version is reported by build, with the whole story; detect only passes it on.
  let version: Record<string, string> = {};
  try {
    const req = nodeVersionRequest(inputs);
    version = { version: req.raw, 'version-source': req.source };
  } catch {
    // build fails with the message
  }
  return {
    pass: true,
    plan: {
      provides: [{ name: 'node' }],
      requires: [{ name: 'node', metadata: { ...version, launch: true, build: true } }],
    },
  };
}
