import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunSpec } from '../../../src/lifecycle/sandbox/executor.js';
import { createHostExecutor } from '../../../src/lifecycle/sandbox/host-executor.js';
import { isCairnError } from '../../../src/oci/errors.js';
import { PATH, spec, survivors } from './sandbox-helpers.js';

describe('host executor', () => {
  const host = createHostExecutor();
  const root = process.getuid!() === 0;
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cairn-host-exec-'));
    chmodSync(work, 0o755); // the CNB user must be able to enter it
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const sh = (script: string, more: Partial<RunSpec> = {}): RunSpec => spec(['/bin/sh', '-c', script], more);
  const stdoutOf = async (s: RunSpec): Promise<{ code: number; stdout: string; output: string }> => {
    let stdout = '';
    const r = await host.run({ ...s, onOutput: (c, stream) => { if (stream === 'stdout') stdout += c.toString(); } });
    return { code: r.code, stdout, output: r.output };
  };

  it('passes argv, environment (plus PWD) and working directory exactly', async () => {
    process.env.HOST_SECRET = 'do-not-leak';
    try {
      const argv = ['/bin/cat', '--', '/proc/self/cmdline', 'with space', '', '--flag'];
      const a = await stdoutOf(spec(argv));
      assert.equal(a.stdout.split('\0').slice(0, argv.length).join('\0'), argv.join('\0'));
      const env = { PATH, A: '1', EMPTY: '', MULTI: 'line1\nline2' };
      const e = await stdoutOf(spec(['/bin/cat', '/proc/self/environ'], { env, cwd: work }));
      const seen = Object.fromEntries(e.stdout.split('\0').filter((x) => x !== '').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      assert.deepEqual(seen, { ...env, PWD: work });
      const c = await stdoutOf(spec(['/bin/readlink', '/proc/self/cwd'], { cwd: work }));
      assert.equal(c.stdout, `${work}\n`);
    } finally {
      delete process.env.HOST_SECRET;
    }
  });

  it('runs as the spec uid and gid without supplementary groups when cairn is root', async (t) => {
    if (!root) {
      t.skip('needs root');
      return;
    }
    const r = await stdoutOf(sh('id -u; id -g; id -G', { uid: 1000, gid: 1001 }));
    assert.equal(r.stdout, '1000\n1001\n1001\n');
  });

  it('propagates exit codes and signals, and reports commands that cannot run', async () => {
    for (const code of [0, 100, 7]) {
      const r = await host.run(sh(`echo out; echo err >&2; exit ${code}`));
      assert.equal(r.code, code);
      assert.match(r.output, /out/);
      assert.match(r.output, /err/);
    }
    const segv = await host.run(sh('kill -SEGV $$'));
    assert.equal(segv.code, 139);
    assert.equal(segv.signal, 'SIGSEGV');
    assert.equal((await host.run(spec([join(work, 'missing')]))).code, 127);
    writeFileSync(join(work, 'plain.txt'), 'not executable');
    assert.equal((await host.run(spec([join(work, 'plain.txt')]))).code, 126);
  });

  it('kills the whole tree on timeout and abort, and what is left once the command exits', async () => {
    const tree = 'sleep 1000 & sh -c "sleep 1000 & sleep 1000" & sleep 1000';
    const mark = randomBytes(8).toString('hex');
    const r = await host.run(sh(tree, { env: { PATH, MARK: mark }, timeoutMs: 400 }));
    assert.equal(r.timedOut, true);
    assert.equal(r.code, 137);
    assert.deepEqual(await survivors('MARK', mark), []);

    const mark2 = randomBytes(8).toString('hex');
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled')), 300);
    await assert.rejects(host.run(sh(tree, { env: { PATH, MARK: mark2 }, signal: ac.signal })), /cancelled/);
    assert.deepEqual(await survivors('MARK', mark2), []);

    const mark3 = randomBytes(8).toString('hex');
    const t0 = Date.now();
    const bg = await host.run(sh('sleep 1000 & echo started', { env: { PATH, MARK: mark3 } }));
    assert.equal(bg.code, 0);
    assert.ok(Date.now() - t0 < 3000);
    assert.deepEqual(await survivors('MARK', mark3), []);
  });

  it('accepts identity mounts only, and refuses what it cannot enforce', async () => {
    assert.equal((await host.run(sh('true', { mounts: [{ host: work, sandbox: work, writable: false }] }))).code, 0);
    await assert.rejects(host.run(sh('true', { mounts: [{ host: work, sandbox: '/workspace', writable: true }] })), (e: unknown) => isCairnError(e, 'INTERNAL'));
    await assert.rejects(host.run(sh('true', { network: false })), (e: unknown) => isCairnError(e, 'UNSUPPORTED'));
    await assert.rejects(host.run(sh('true', { cwd: join(work, 'nowhere') })), (e: unknown) => isCairnError(e, 'INTERNAL'));
  });
});
