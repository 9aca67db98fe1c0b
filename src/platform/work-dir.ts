/**
 * The private work folder of one build, `<builds>/<pid namespace>-<pid>-<random>`: the build removes it when
 * it ends, and a build killed before that (SIGKILL, power loss) leaves it behind. Its name says who owns it, so
 * every new build first removes the folders of processes that are gone (same PID namespace, pid no longer
 * alive). Folders of this process (a concurrent build in it) and of other PID namespaces (another container
 * sharing the cairn home, whose owner may be alive) are left alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pidNamespace, processAlive } from '../oci/process-liveness.js';

const NAME = /^(\w+)-(\d+)-[0-9a-f]+$/;

/** Creates a fresh work folder (mode 0700) under `buildsDir`, after removing those of dead builds. */
export async function createWorkDir(buildsDir: string): Promise<string> {
  await mkdir(buildsDir, { recursive: true, mode: 0o700 });
  const ns = pidNamespace();
  for (const name of await readdir(buildsDir)) {
    const m = NAME.exec(name);
    if (!m || m[1] !== ns || Number(m[2]) === process.pid || processAlive(Number(m[2]))) continue;
    await rm(join(buildsDir, name), { recursive: true, force: true }).catch(() => undefined);
  }
  const dir = join(buildsDir, `${ns}-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

