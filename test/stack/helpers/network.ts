/** Network gate for the tests that talk to deb.debian.org. */
import type { TestContext } from 'node:test';

/** True when deb.debian.org answers; otherwise fails under CI (CI=true) or skips the test with the reason. */
export async function needDebianMirror(t: TestContext): Promise<boolean> {
  try {
    const res = await fetch('http://deb.debian.org/debian/dists/bookworm/InRelease', { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    if (res.ok) return true;
    throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    const why = `deb.debian.org is unreachable (${(e as Error).message})`;
    if (process.env.CI) throw new Error(`under CI: ${why}`);
    t.skip(why);
    return false;
  }
}
