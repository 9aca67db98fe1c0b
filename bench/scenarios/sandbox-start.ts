/**
 * The start-up floor under a rebuild. One process start in the sandbox, as bin/detect and bin/build start:
 * bwrap over the default builder's root filesystem, then the builder's Node.js (`/cnb/runtime/node/bin/node
 * -e 0`, the runtime cairn's buildpacks run on); beside it, bwrap alone (`/bin/true`). And the CLI's own
 * start, with the build command's code loaded (`cairn build --help`). A rebuild starts the CLI once and runs
 * every buildpack's bin/build in sequence, so a change rebuild cannot be quicker than the CLI's start plus
 * (bin/builds in the group) × a sandboxed Node.js start.
 */
import { join } from 'node:path';
import { loadImage } from '../../src/oci/image.js';
import { openLocalStore } from '../../src/oci/store/local.js';
import { createBwrapExecutor } from '../../src/lifecycle/sandbox/bwrap-executor.js';
import { prepareRootfs } from '../../src/lifecycle/sandbox/rootfs-cache.js';
import { BUILDER } from '../cairn-home.js';
import type { BenchContext } from '../context.js';

export interface SandboxStartResult {
  /** bwrap + `node -e 0` in the builder's root filesystem, per start. */
  nodeMs: number[];
  /** bwrap + `/bin/true`, per start. */
  trueMs: number[];
  /** `cairn build --help`, per start: Node.js and the build command's code, loaded as a build loads them. */
  cliMs: number[];
}

export async function benchSandboxStart(ctx: BenchContext, starts = 20): Promise<SandboxStartResult> {
  const store = await openLocalStore(ctx.bench.home);
  const builder = await loadImage(store, BUILDER);
  await store.close();
  const rootfs = await prepareRootfs(builder, join(ctx.bench.home, 'rootfs'));
  const executor = createBwrapExecutor({ rootfs, ...(process.env.PATH ? { searchPath: process.env.PATH } : {}) });
  const once = async (argv: string[]): Promise<number> => {
    const t0 = performance.now();
    const r = await executor.run({ argv, env: { PATH: '/usr/bin:/bin' }, cwd: '/', mounts: [], uid: 1000, gid: 1000 });
    if (r.code !== 0) throw new Error(`${argv.join(' ')} exited with ${r.code} in the sandbox: ${r.output}`);
    return performance.now() - t0;
  };
  const result: SandboxStartResult = { nodeMs: [], trueMs: [], cliMs: [] };
  await once(['/bin/true']); // the executor's one-time preparation is not a start
  for (let i = 0; i < starts; i++) {
    result.nodeMs.push(await once(['/cnb/runtime/node/bin/node', '-e', '0']));
    result.trueMs.push(await once(['/bin/true']));
    result.cliMs.push((await ctx.bench.cairn(['build', '--help'])).ms);
  }
  return result;
}
