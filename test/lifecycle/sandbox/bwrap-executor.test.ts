import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createBwrapExecutor } from '../../../src/lifecycle/sandbox/bwrap-executor.js';
import type { Executor, RunSpec } from '../../../src/lifecycle/sandbox/executor.js';
import { prepareRootfs, removeReadOnlyTree } from '../../../src/lifecycle/sandbox/rootfs-cache.js';
import { isCairnError } from '../../../src/oci/errors.js';
import { needTool } from '../../helpers/tools.js';
import { makeToolsImage } from './tools-image.js';
import { PATH, spec, survivors } from './sandbox-helpers.js';

describe('bwrap executor', () => {
  let work: string;
  let rootfs: string;
  let bwrap: Executor;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cairn-bwrap-'));
    rootfs = await prepareRootfs(await makeToolsImage(), join(work, 'cache'));
    bwrap = createBwrapExecutor({ rootfs });
  });
  after(async () => {
    removeReadOnlyTree(work);
    await rm(work, { recursive: true, force: true });
  });

  const dir = (name: string, files: Record<string, string> = {}): string => {
    const d = join(work, name);
    mkdirSync(d, { recursive: true });
    for (const [f, c] of Object.entries(files)) writeFileSync(join(d, f), c);
    return d;
  };
  const sh = (script: string, more: Partial<RunSpec> = {}): RunSpec => spec(['/bin/sh', '-c', script], more);
  const stdoutOf = async (s: RunSpec): Promise<{ code: number; stdout: string; output: string }> => {
    let stdout = '';
    const r = await bwrap.run({ ...s, onOutput: (c, stream) => { if (stream === 'stdout') stdout += c.toString(); } });
    return { code: r.code, stdout, output: r.output };
  };

  it('passes argv, environment and working directory exactly, and nothing of the host environment', async (t: TestContext) => {
    if (!needTool(t, 'bwrap')) return;
    process.env.HOST_SECRET = 'do-not-leak';
    try {
      const argv = ['/bin/cat', '--', '/proc/self/cmdline', 'with space', '', '--flag', 'ünï\ncode'];
      const r = await stdoutOf(spec(argv));
      assert.equal(r.stdout.split('\0').slice(0, argv.length).join('\0'), argv.join('\0'));
      const env = { PATH, A: '1', EMPTY: '', SPACED: 'a b  c', MULTI: 'line1\nline2', 'WEIRD.NAME': 'x=y' };
      const e = await stdoutOf(spec(['/bin/cat', '/proc/self/environ'], { env }));
      assert.equal(e.code, 0, e.output);
      const seen = Object.fromEntries(e.stdout.split('\0').filter((x) => x !== '').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      assert.deepEqual(seen, { ...env, PWD: '/' }, 'exactly the given environment, plus PWD (bwrap always sets it)');
      assert.ok(!e.stdout.includes('do-not-leak'));
      const app = dir('cwd-app');
      const c = await stdoutOf(spec(['/bin/readlink', '/proc/self/cwd'], { cwd: '/workspace', mounts: [{ host: app, sandbox: '/workspace', writable: false }] }));
      assert.equal(c.stdout, '/workspace\n');
    } finally {
      delete process.env.HOST_SECRET;
    }
  });

  it('runs as the given uid and gid, with no capabilities and no_new_privs', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const r = await stdoutOf(sh('id -u; id -g; id -G; cat /proc/self/status'));
    const [uid, gid, groups] = r.stdout.split('\n');
    assert.equal(uid, '1000');
    assert.equal(gid, '1000');
    assert.equal(groups, '1000');
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.match(r.stdout, new RegExp(`^${cap}:\\s+0000000000000000$`, 'm'));
    assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
    const other = await stdoutOf(sh('id -u; id -g', { uid: 1234, gid: 5678 }));
    assert.equal(other.stdout, '1234\n5678\n');
  });

  it('propagates exit codes and captures stdout and stderr', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    for (const code of [0, 100, 7]) {
      const r = await bwrap.run(sh(`echo out-${code}; echo err-${code} >&2; exit ${code}`));
      assert.equal(r.code, code);
      assert.match(r.output, new RegExp(`out-${code}`));
      assert.match(r.output, new RegExp(`err-${code}`));
    }
    const streams = new Set<string>();
    await bwrap.run({ ...sh('echo a; echo b >&2'), onOutput: (_c, s) => streams.add(s) });
    assert.deepEqual([...streams].sort(), ['stderr', 'stdout']);
    const killed = await bwrap.run(sh('kill -SEGV $$'));
    assert.equal(killed.code, 128 + 11);
  });

  it('reports a command that cannot be executed as 127 or 126, not as a sandbox failure', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const missing = await bwrap.run(spec(['/cnb/buildpacks/missing/bin/detect']));
    assert.equal(missing.code, 127);
    assert.match(missing.output, /No such file or directory/);
    const notExec = await bwrap.run(spec(['/etc/passwd']));
    assert.equal(notExec.code, 126);
  });

  it('keeps only the last 1 MiB of output', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 0x61 + (i % 26);
    const d = dir('big');
    writeFileSync(join(d, 'big.txt'), big);
    const r = await bwrap.run(spec(['/bin/cat', '/data/big.txt'], { mounts: [{ host: d, sandbox: '/data', writable: false }] }));
    assert.equal(r.code, 0);
    assert.equal(r.output.length, 1024 * 1024);
    assert.equal(r.output, big.subarray(big.length - 1024 * 1024).toString());
  });

  it('kills the whole process tree on timeout and on abort', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const mark = randomBytes(8).toString('hex');
    const tree = 'sleep 1000 & sh -c "sleep 1000 & sleep 1000" & sleep 1000';
    const t0 = Date.now();
    const r = await bwrap.run(sh(tree, { env: { PATH, MARK: mark }, timeoutMs: 500 }));
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(r.timedOut, true);
    assert.equal(r.code, 137);
    assert.equal(r.signal, 'SIGKILL');
    assert.deepEqual(await survivors('MARK', mark), []);

    const mark2 = randomBytes(8).toString('hex');
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user pressed ^C')), 300);
    await assert.rejects(bwrap.run(sh(tree, { env: { PATH, MARK: mark2 }, signal: ac.signal })), /user pressed/);
    assert.deepEqual(await survivors('MARK', mark2), []);
  });

  it('does not wait for background processes once the command exits, and kills them', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const mark = randomBytes(8).toString('hex');
    const t0 = Date.now();
    const r = await bwrap.run(sh('sleep 1000 & echo started', { env: { PATH, MARK: mark } }));
    assert.equal(r.code, 0);
    assert.ok(Date.now() - t0 < 3000);
    assert.deepEqual(await survivors('MARK', mark), []);
  });

  it('shows the image read-only, with tmpfs /tmp and home, host DNS files, and the mounts where asked', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const mine = dir('layers/mine');
    const bp = dir('buildpacks/bp', { 'buildpack.toml': 'api = "0.12"\n' });
    const run = dir('run-extra', { 'sock.txt': 'in /var/run\n' });
    const r = await stdoutOf(sh([
      'ls -a /', 'echo ---', 'cat /cnb/lifecycle/marker /cnb/buildpacks/bp/buildpack.toml /var/run/cnb/sock.txt /etc/new.txt',
      'readlink /etc/mtab', 'cat /etc/resolv.conf', 'ls -a /home/cnb', 'touch /tmp/t /home/cnb/h && echo tmp-ok',
      'ls -ln /bin/cat', 'cat /etc/unreadable',
    ].join('; '), {
      mounts: [
        { host: bp, sandbox: '/cnb/buildpacks/bp', writable: false },
        { host: mine, sandbox: '/layers/mine', writable: true },
        { host: run, sandbox: '/var/run/cnb', writable: false },
      ],
    }));
    assert.equal(r.code, 0, r.output);
    const [ls, rest] = r.stdout.split('---\n');
    assert.deepEqual(ls!.trim().split('\n').sort(), ['.', '..', 'bin', 'cnb', 'dev', 'etc', 'home', 'layers', 'lib', 'lib64', 'proc', 'run', 'tmp', 'usr', 'var'].sort());
    assert.ok(rest!.includes('lifecycle marker\napi = "0.12"\nin /var/run\nfrom layer 2\n'), rest);
    assert.ok(rest!.includes('/proc/self/mounts\n'));
    assert.ok(rest!.includes(readFileSync('/etc/resolv.conf', 'utf8')));
    assert.ok(rest!.includes('.\n..\ntmp-ok\n'), 'the home is an empty tmpfs (the image\'s .profile is hidden)');
    assert.match(rest!, /^-rwxr-xr-x 1 1000 1000 .* \/bin\/cat$/m, 'the rootfs appears owned by the sandbox user');
    assert.ok(rest!.includes('write-only for its owner'));
  });

  it('refuses writes to the image, to read-only mounts and to /proc/sys', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const other = dir('layers/other', { 'f.txt': 'other buildpack\n' });
    const app = dir('app', { 'index.js': 'app\n' });
    const attempts = [
      'touch /x', 'mkdir /cnb/new', 'touch /cnb/lifecycle/marker', 'touch /etc/new', 'chmod 777 /bin/cat', 'touch /usr/bin/x',
      'echo evil > /layers/other/f.txt', 'touch /layers/other/new', 'echo evil > /workspace/index.js', 'mkdir /workspace/node_modules',
      'test -w /proc/sys/kernel/core_pattern', 'test -w /proc/sys/vm/overcommit_memory', 'echo 1 > /proc/sys/vm/drop_caches',
    ];
    const mounts = [
      { host: other, sandbox: '/layers/other', writable: false },
      { host: app, sandbox: '/workspace', writable: false },
    ];
    for (const a of attempts) {
      const r = await bwrap.run(sh(a, { mounts }));
      assert.notEqual(r.code, 0, `${a} succeeded: ${r.output}`);
    }
    assert.equal(readFileSync(join(other, 'f.txt'), 'utf8'), 'other buildpack\n');
    assert.deepEqual(readdirSync(other), ['f.txt']);
    assert.deepEqual(readdirSync(app), ['index.js']);
    assert.equal(statSync(join(rootfs, 'bin/cat')).mode & 0o777, 0o755);
  });

  it('hides every host path that is not mounted', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const secret = dir('secret', { 'secret.txt': 'host secret\n' });
    const r = await bwrap.run(sh(`cat ${secret}/secret.txt; ls ${secret}; cat /proc/1/root${secret}/secret.txt; ls ${work}; ls /oldroot /newroot /root; ls /proc`));
    assert.ok(!r.output.includes('host secret'));
    assert.ok(!r.output.includes('secret.txt\n'));
    assert.equal(r.output.match(/No such file or directory/g)?.length, 7, r.output);
    // only the sandbox's own processes are visible: its init (1), the shell and ls
    const pids = r.output.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    assert.ok(pids.length <= 3 && pids.every((p) => p < 10), `pids: ${pids.join(' ')}`);
  });

  it('does not let a setuid binary raise privileges', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const w = dir('layers/suid');
    copyFileSync('/usr/bin/id', join(w, 'id'));
    chmodSync(join(w, 'id'), 0o4755); // setuid, owned by the user running the test (root here)
    copyFileSync('/bin/sh', join(w, 'sh'));
    chmodSync(join(w, 'sh'), 0o6755);
    const r = await stdoutOf(sh('/w/id -u; /w/id; /w/sh -p -c "id -u; id -g"; /bin/suid-id -u', { mounts: [{ host: w, sandbox: '/w', writable: true }] }));
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout, `1000\nuid=1000(cnb) gid=1000(cnb) groups=1000(cnb)\n1000\n1000\n1000\n`);
    assert.ok(!r.stdout.includes('euid'));
  });

  it('writes to a writable mount land in the host folder', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const mine = dir('layers/writes');
    const r = await bwrap.run(sh('mkdir -p /layers/mine/node/bin && echo built > /layers/mine/node/bin/out && echo "[types]" > /layers/mine/node.toml', {
      cwd: '/layers/mine',
      mounts: [{ host: mine, sandbox: '/layers/mine', writable: true }],
    }));
    assert.equal(r.code, 0, r.output);
    assert.equal(readFileSync(join(mine, 'node/bin/out'), 'utf8'), 'built\n');
    assert.equal(readFileSync(join(mine, 'node.toml'), 'utf8'), '[types]\n');
    assert.equal(lstatSync(join(mine, 'node/bin/out')).uid, process.getuid!(), 'files belong to the user running cairn');
  });

  it('applies mounts in order: a later mount shadows part of an earlier one', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const layers = dir('order/layers', { 'top.txt': 'top\n' });
    mkdirSync(join(layers, 'a'), { recursive: true });
    writeFileSync(join(layers, 'a', 'under.txt'), 'hidden\n');
    const a = dir('order/a', { 'a.txt': 'a\n' });
    const r = await stdoutOf(sh('ls /layers /layers/a; touch /layers/a/new', {
      mounts: [
        { host: layers, sandbox: '/layers', writable: false },
        { host: a, sandbox: '/layers/a', writable: true },
      ],
    }));
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout, '/layers:\na\ntop.txt\n\n/layers/a:\na.txt\n');
    assert.deepEqual(readdirSync(a).sort(), ['a.txt', 'new']);
    // a mount point inside an earlier mount must already exist there: bwrap never creates folders in host folders
    await assert.rejects(bwrap.run(sh('true', {
      mounts: [
        { host: layers, sandbox: '/layers', writable: true },
        { host: a, sandbox: '/layers/missing', writable: true },
      ],
    })), (e: unknown) => isCairnError(e, 'INTERNAL') && /does not exist/.test(e.message));
    assert.deepEqual(readdirSync(layers).sort(), ['a', 'top.txt']);
  });

  it('shares the network unless told not to', async (t) => {
    if (!needTool(t, 'bwrap')) return;
    const ifaces = (text: string): string[] => text.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter((n) => n !== '').sort();
    const shared = await stdoutOf(spec(['/bin/cat', '/proc/net/dev']));
    assert.deepEqual(ifaces(shared.stdout), ifaces(readFileSync('/proc/net/dev', 'utf8')));
    const none = await stdoutOf(spec(['/bin/cat', '/proc/net/dev'], { network: false }));
    assert.deepEqual(ifaces(none.stdout), ['lo']);
  });

  it('reports a missing bwrap with a hint', async () => {
    const missing = createBwrapExecutor({ rootfs, bwrap: join(work, 'no-such-bwrap') });
    await assert.rejects(missing.run(spec(['/bin/sh', '-c', 'true'])), (e: unknown) =>
      isCairnError(e, 'UNSUPPORTED') && /apt-get install bubblewrap/.test(e.hint ?? '') && /--executor host/.test(e.hint ?? ''));
  });

  it('refuses invalid specs before running anything', async () => {
    for (const bad of [
      spec(['bin/sh']),
      spec(['/bin/sh', 'a\0b']),
      spec(['/bin/sh'], { env: { 'A=B': 'x' } }),
      spec(['/bin/sh'], { cwd: 'relative' }),
      spec(['/bin/sh'], { mounts: [{ host: '/tmp', sandbox: '/', writable: false }] }),
      spec(['/bin/sh'], { mounts: [{ host: '/tmp', sandbox: '/a/../b', writable: false }] }),
      spec(['/bin/sh'], { uid: -1 }),
    ]) {
      await assert.rejects(bwrap.run(bad), (e: unknown) => isCairnError(e, 'INTERNAL'));
    }
  });
});
