/**
 * Shared setup of the detector and builder tests: a work folder (app, layers, platform env, operator env),
 * BuildDirs over the fixture buildpacks, and the bwrap executor over the test rootfs.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseApiVersion } from '../../../src/lifecycle/api.js';
import type { OrderGroup } from '../../../src/lifecycle/files/module-ref.js';
import type { SandboxPhaseInput } from '../../../src/lifecycle/phases/build-context.js';
import { SANDBOX_DIRS, type BuildDirs } from '../../../src/lifecycle/phases/dirs.js';
import { createBwrapExecutor } from '../../../src/lifecycle/sandbox/bwrap-executor.js';
import { TEST_ROOTFS_GID, TEST_ROOTFS_UID, testRootfs } from '../../helpers/test-rootfs.js';

/** test/lifecycle/fixtures/buildpacks in the source tree (tests run from dist/). */
export const FIXTURE_BUILDPACKS = fileURLToPath(new URL('../../../../test/lifecycle/fixtures/buildpacks', import.meta.url));

export interface Work {
  root: string;
  dirs: BuildDirs;
  rootfs: string;
  /** Folder outside every mount, standing for "the host". */
  host: string;
  log: { level: string; message: string }[];
  input: Omit<SandboxPhaseInput, 'dirs'> & { dirs: BuildDirs };
  cleanup(): Promise<void>;
}

/** Writes `<platform>/env/<name>` files. */
export async function setUserEnv(w: Work, vars: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(vars)) await writeFile(join(w.dirs.host.platform, 'env', k), v);
}

export async function makeWork(): Promise<Work> {
  const rootfs = testRootfs();
  const root = await mkdtemp(join(tmpdir(), 'cairn-phase-'));
  const dirs: BuildDirs = {
    host: {
      app: join(root, 'workspace'),
      layers: join(root, 'layers'),
      platform: join(root, 'platform'),
      buildpacks: FIXTURE_BUILDPACKS,
      buildConfig: join(root, 'build-config'),
    },
    sandbox: SANDBOX_DIRS,
  };
  const host = join(root, 'host');
  for (const d of [join(dirs.host.app, 'public'), join(dirs.host.app, 'sub'), dirs.host.layers, join(dirs.host.platform, 'env'), join(dirs.host.buildConfig, 'env'), host]) {
    await mkdir(d, { recursive: true });
  }
  await writeFile(join(dirs.host.app, 'app.txt'), 'the app\n');
  await writeFile(join(dirs.host.buildConfig, 'env', 'OPERATOR_VAR'), 'op');
  const log: Work['log'] = [];
  const w: Work = {
    root,
    dirs,
    rootfs,
    host,
    log,
    input: {
      dirs,
      executor: createBwrapExecutor({ rootfs }),
      platformApi: parseApiVersion('0.15'),
      target: { os: 'linux', arch: 'amd64' },
      osRelease: await readFile(join(rootfs, 'etc/os-release'), 'utf8'),
      uid: TEST_ROOTFS_UID,
      gid: TEST_ROOTFS_GID,
      processEnv: { PATH: '/usr/bin:/bin', HOME: '/home/cnb', SECRET_TOKEN: 'must-not-pass', LANG: 'C' },
      log: (level, message) => log.push({ level, message }),
      tmpDir: root,
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  await setUserEnv(w, { USER_VAR: 'from-user', PATH: '/user/bin' });
  return w;
}

/** `KEY=value` lines of an `env` dump (single-line values). */
export async function readEnvDump(path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** An order of fixture buildpacks (all version 1.0.0); `[id, true]` is optional. */
export function order(...groups: (string | [string, boolean])[][]): OrderGroup[] {
  const ref = (id: string, optional = false) => ({ id, version: '1.0.0', optional, execEnv: [] });
  return groups.map((g) => ({ group: g.map((x) => (typeof x === 'string' ? ref(x) : ref(x[0], x[1]))) }));
}

/** The node/JS order: a composite (yarn fails, npm's [[or]] passes), an optional that fails, clear-env web. */
export const JS_ORDER = order(['test/node-engine', 'test/js', ['test/optional-fail', true], 'test/web']);
