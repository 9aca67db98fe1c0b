/**
 * Builds the launcher: `launcher.c` compiled statically, so it runs on any run image (no libc needed in it),
 * reproducibly (no build ID, no source paths in the binary). The C compiler is the caller's: the build
 * image's gcc when a builder is made, the host's in tests.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CairnError } from '../../oci/errors.js';

/** launcher.c, shipped beside the compiled JavaScript (the build copies it; see scripts/build.mjs). */
export const LAUNCHER_SOURCE = fileURLToPath(new URL('./launcher.c', import.meta.url));

export const LAUNCHER_CFLAGS = ['-static', '-O2', '-Wall', '-Wl,--build-id=none', '-s'];

/** Compiles the launcher with `cc` on this machine into `out`. */
export async function compileLauncherOnHost(out: string, cc = 'cc'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-launcher-'));
  try {
    await copyFile(LAUNCHER_SOURCE, join(dir, 'launcher.c'));
    await promisify(execFile)(cc, [...LAUNCHER_CFLAGS, `-ffile-prefix-map=${dir}=.`, '-o', out, 'launcher.c'], { cwd: dir });
  } catch (e) {
    throw new CairnError('INTERNAL', `cannot compile the launcher with ${cc}: ${(e as Error).message}`, {
      cause: e, hint: 'install a C compiler with static glibc (apt-get install gcc libc6-dev)',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
