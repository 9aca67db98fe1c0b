/**
 * The bwrap executor as a normal user (unprivileged user namespaces). Under root the fixture runs as an
 * arbitrary unprivileged uid (4321, no passwd entry) to show that any real uid maps to the sandbox uid;
 * otherwise it runs as the current user.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { needTool } from '../../helpers/tools.js';

const REAL_UID = 4321;

describe('bwrap executor as a normal user', () => {
  it('maps the real user to the sandbox user and keeps the image read-only', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const root = process.getuid!() === 0;
    const fixture = fileURLToPath(new URL('./unprivileged-fixture.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
      cwd: '/',
      ...(root ? { uid: REAL_UID, gid: REAL_UID } : {}),
    });
    const seen = JSON.parse(stdout) as { realUid: number; code: number; output: string; stdout: string; hostFile: string; hostFileUid: number; rootfsUid: number };
    const realUid = root ? REAL_UID : process.getuid!();
    assert.equal(seen.realUid, realUid);
    assert.equal(seen.code, 0, seen.output);
    const lines = seen.stdout.split('\n');
    assert.equal(lines[0], '1000');
    assert.equal(lines[1], '1000');
    assert.match(lines[2]!, /^-rwxr-xr-x 1 1000 1000 /, 'the rootfs, owned by the real user, appears owned by the sandbox user');
    assert.deepEqual(lines.slice(3), ['rootfs-ro', 'sysctl-ro', '']);
    assert.equal(seen.hostFile, 'built\n');
    assert.equal(seen.hostFileUid, realUid, 'what the sandbox writes belongs to the real user on the host');
    assert.equal(seen.rootfsUid, realUid);
  });
});
