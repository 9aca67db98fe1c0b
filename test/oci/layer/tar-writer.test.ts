/**
 * writeLayer: determinism (same tree, different mtimes/umask/creation order → same digests), golden
 * diffIDs, interoperability (GNU tar, Python's tarfile, gzip), entry rules (order, modes, owners,
 * mtimes, PAX, hardlinks, symlinks, skipped special files, prefixes, filters), gzip header bytes, and
 * destinations (file written atomically, Writable). Scale tests are in tar-writer-scale.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isCairnError } from '../../../src/oci/errors.js';
import { listLayer } from '../../../src/oci/layer/list.js';
import { DEFAULT_LAYER_MTIME, writeLayer, writeLayerTar, type LayerSource, type LayerWriterOptions } from '../../../src/oci/layer/tar-writer.js';
import { needTool } from '../../helpers/tools.js';

let top: string;
before(async () => {
  top = await mkdtemp(join(tmpdir(), 'cairn-writer-'));
});
after(async () => {
  await rm(top, { recursive: true, force: true });
});

let n = 0;
const fresh = async (): Promise<string> => {
  const d = join(top, `t${++n}`);
  await mkdir(d);
  return d;
};

const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** Writes a layer to a file in `top` and returns the result and the blob bytes. */
async function layerOf(sources: LayerSource[], opts: LayerWriterOptions = {}) {
  const file = join(top, `layer-${++n}.tar.gz`);
  const r = await writeLayer(sources, file, opts);
  return { ...r, file, blob: readFileSync(file) };
}

/** Python's tarfile view of a layer: name, type, mode, ids, names, mtime, size, link, PAX keys. */
function pythonList(file: string): unknown[] {
  const script = `
import json, sys, tarfile
out = []
with tarfile.open(sys.argv[1], 'r:gz') as t:
    for m in t.getmembers():
        out.append([m.name, m.type.decode(), oct(m.mode), m.uid, m.gid, m.uname, m.gname, m.mtime, m.size, m.linkname, sorted(m.pax_headers.keys())])
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as unknown[];
}

/** `tar -tvzf` with whitespace collapsed, in UTC. */
function gnuList(file: string): string[] {
  return execFileSync('tar', ['-tvzf', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
    .trim()
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' '));
}

// ------------------------------------------------------------------------------------------------- golden

const LONG_NAME = `long/${'n'.repeat(120)}`;
const LONG_TARGET = 't'.repeat(150);
const GOLDEN: LayerSource[] = [
  { type: 'dir', path: 'etc' },
  { type: 'file', path: 'etc/hello.txt', data: 'hello, cairn\n' },
  { type: 'file', path: 'bin/run', data: '#!/bin/sh\necho run\n', executable: true },
  { type: 'symlink', path: 'bin/sh-link', target: '/bin/sh' },
  { type: 'file', path: 'pad/513', data: 'x'.repeat(513) },
  { type: 'file', path: LONG_NAME, data: 'long name\n' },
  { type: 'symlink', path: 'long/link', target: LONG_TARGET },
  { type: 'dir', path: 'empty' },
];

/*
 * Golden diffIDs. Computed once with this writer, then cross-checked independently by the assertions
 * below: `gzip -dc | sha256sum` gives the same diffID, GNU tar 1.34 lists exactly the expected entries
 * (names, modes, 0/0 owners, 1980-01-01 mtimes, sizes, link targets), and Python's tarfile reads the
 * same entries with empty uname/gname and PAX records only where a name or link name is over 100 bytes.
 * A change here means every layer cairn writes changes digest: do it deliberately.
 */
const GOLDEN_DIFFID = 'sha256:fbf324ec9ebb30b433ecfbeace909070b08b16bf88234b41104ea6bddc8e57fa';
const GOLDEN_DIFFID_OWNED = 'sha256:f9a392d70c43134d8daf9d8bb4e9735bc78fc98f1fa55a0039ac86f427728edb';
const GOLDEN_DIFFID_DISK = 'sha256:d563283fbf79748e0c27c9c31afa720754b614a877ef570140bd25e6dbc015b1';

test('golden layer: pinned diffID, read identically by GNU tar and Python tarfile', async (t) => {
  const g = await layerOf(GOLDEN);
  assert.equal(g.diffID, GOLDEN_DIFFID);
  assert.equal(sha(gunzipSync(g.blob)), g.diffID);
  assert.equal(sha(g.blob), g.digest);
  assert.equal(g.size, g.blob.length);
  assert.equal(g.tarSize, gunzipSync(g.blob).length);
  if (!needTool(t, 'tar', 'gzip', 'sha256sum', 'python3')) return;
  assert.equal('sha256:' + execFileSync('sh', ['-c', `gzip -dc "$1" | sha256sum`, 'sh', g.file], { encoding: 'utf8' }).split(' ')[0], GOLDEN_DIFFID);
  const d = '1980-01-01 00:00';
  assert.deepEqual(gnuList(g.file), [
    `drwxr-xr-x 0/0 0 ${d} bin/`,
    `-rwxr-xr-x 0/0 19 ${d} bin/run`,
    `lrwxrwxrwx 0/0 0 ${d} bin/sh-link -> /bin/sh`,
    `drwxr-xr-x 0/0 0 ${d} empty/`,
    `drwxr-xr-x 0/0 0 ${d} etc/`,
    `-rw-r--r-- 0/0 13 ${d} etc/hello.txt`,
    `drwxr-xr-x 0/0 0 ${d} long/`,
    `lrwxrwxrwx 0/0 0 ${d} long/link -> ${LONG_TARGET}`,
    `-rw-r--r-- 0/0 10 ${d} ${LONG_NAME}`,
    `drwxr-xr-x 0/0 0 ${d} pad/`,
    `-rw-r--r-- 0/0 513 ${d} pad/513`,
  ]);
  const m = 315532801;
  assert.deepEqual(pythonList(g.file), [
    ['bin', '5', '0o755', 0, 0, '', '', m, 0, '', []],
    ['bin/run', '0', '0o755', 0, 0, '', '', m, 19, '', []],
    ['bin/sh-link', '2', '0o777', 0, 0, '', '', m, 0, '/bin/sh', []],
    ['empty', '5', '0o755', 0, 0, '', '', m, 0, '', []],
    ['etc', '5', '0o755', 0, 0, '', '', m, 0, '', []],
    ['etc/hello.txt', '0', '0o644', 0, 0, '', '', m, 13, '', []],
    ['long', '5', '0o755', 0, 0, '', '', m, 0, '', []],
    ['long/link', '2', '0o777', 0, 0, '', '', m, 0, LONG_TARGET, ['linkpath']],
    [LONG_NAME, '0', '0o644', 0, 0, '', '', m, 10, '', ['path']],
    ['pad', '5', '0o755', 0, 0, '', '', m, 0, '', []],
    ['pad/513', '0', '0o644', 0, 0, '', '', m, 513, '', []],
  ]);
});

test('golden layer with owner and fixed mtime options', async (t) => {
  const g = await layerOf(GOLDEN, { uid: 1000, gid: 1001, mtime: new Date('2000-01-02T03:04:05Z') });
  assert.equal(g.diffID, GOLDEN_DIFFID_OWNED);
  if (!needTool(t, 'tar')) return;
  assert.equal(gnuList(g.file)[1], '-rwxr-xr-x 1000/1001 19 2000-01-02 03:04 bin/run');
});

/** The golden tree on disk, plus a hardlink, created with the given umask, mtimes and creation order. */
async function goldenOnDisk(dir: string, opts: { umask: number; mtime: number; reverse: boolean }): Promise<void> {
  const old = process.umask(opts.umask);
  try {
    const steps: (() => Promise<void>)[] = [
      () => mkdir(join(dir, 'etc'), { recursive: true }).then(() => writeFile(join(dir, 'etc/hello.txt'), 'hello, cairn\n')),
      () => mkdir(join(dir, 'bin'), { recursive: true }).then(() => writeFile(join(dir, 'bin/run'), '#!/bin/sh\necho run\n', { mode: 0o777 })),
      () => mkdir(join(dir, 'bin'), { recursive: true }).then(() => symlink('/bin/sh', join(dir, 'bin/sh-link'))),
      () => mkdir(join(dir, 'pad'), { recursive: true }).then(() => writeFile(join(dir, 'pad/513'), 'x'.repeat(513))),
      () => mkdir(join(dir, 'long'), { recursive: true }).then(() => writeFile(join(dir, LONG_NAME), 'long name\n')),
      () => mkdir(join(dir, 'long'), { recursive: true }).then(() => symlink(LONG_TARGET, join(dir, 'long/link'))),
      async () => void (await mkdir(join(dir, 'empty'), { recursive: true })),
    ];
    for (const s of opts.reverse ? steps.reverse() : steps) await s();
    await link(join(dir, 'etc/hello.txt'), join(dir, 'hello-again.txt'));
  } finally {
    process.umask(old);
  }
  for (const p of ['etc', 'etc/hello.txt', 'bin', 'bin/run', 'pad/513', LONG_NAME, 'empty', 'hello-again.txt']) {
    await utimes(join(dir, p), opts.mtime, opts.mtime);
  }
}

test('same tree, different mtimes, umask and creation order: identical diffID and digest (pinned)', async () => {
  const a = await fresh();
  const b = await fresh();
  await goldenOnDisk(a, { umask: 0o022, mtime: 1_600_000_000, reverse: false });
  await goldenOnDisk(b, { umask: 0o077, mtime: 1_000_000_000, reverse: true });
  const la = await layerOf([{ type: 'tree', source: a, path: 'layers/x' }]);
  const lb = await layerOf([{ type: 'tree', source: b, path: '/layers/x/' }]);
  assert.equal(la.diffID, lb.diffID);
  assert.equal(la.digest, lb.digest);
  assert.deepEqual(la.blob, lb.blob);
  assert.equal(la.diffID, GOLDEN_DIFFID_DISK);
  const list = await listLayer(Readable.from([la.blob]));
  assert.deepEqual(list.slice(0, 4).map((e) => e.path), ['layers/', 'layers/x/', 'layers/x/bin/', 'layers/x/bin/run']);
  const again = list.find((e) => e.path === 'layers/x/hello-again.txt')!;
  const hello = list.find((e) => e.path === 'layers/x/etc/hello.txt')!;
  // etc/hello.txt sorts before hello-again.txt, so it carries the content and hello-again.txt links to it.
  assert.deepEqual([hello.type, hello.size, again.type, again.size, again.linkname], ['file', 13, 'hardlink', 0, 'layers/x/etc/hello.txt']);
});

// ------------------------------------------------------------------------------------------------- entries

test('order is path component by component, as tar --sort=name', async (t) => {
  const src = await fresh();
  for (const p of ['a-b', 'a/b', 'a.c', 'a/a', 'B', 'b', 'é', 'z/0']) {
    await mkdir(join(src, p, '..'), { recursive: true });
    await writeFile(join(src, p), p);
  }
  const l = await layerOf([{ type: 'tree', source: src }]);
  const ours = (await listLayer(Readable.from([l.blob]))).map((e) => e.path.replace(/\/$/, ''));
  assert.deepEqual(ours, ['B', 'a', 'a/a', 'a/b', 'a-b', 'a.c', 'b', 'z', 'z/0', 'é']);
  if (!needTool(t, 'tar')) return;
  const gnu = execFileSync('sh', ['-c', 'tar -c --sort=name -C "$1" . | tar -t', 'sh', src], { encoding: 'utf8' })
    .trim().split('\n').map((s) => s.replace(/^\.\//, '').replace(/\/$/, '')).filter((s) => s !== '.' && s !== '');
  assert.deepEqual(ours, gnu);
});

test('modes are normalised; setuid, setgid and sticky bits are dropped', async () => {
  const src = await fresh();
  const modes: [string, number][] = [['x-owner', 0o700], ['x-other', 0o601], ['plain', 0o600], ['suid', 0o4755], ['sgid', 0o2644], ['group-w', 0o664]];
  for (const [name, mode] of modes) {
    await writeFile(join(src, name), name);
    await chmod(join(src, name), mode);
  }
  await mkdir(join(src, 'sticky'));
  await chmod(join(src, 'sticky'), 0o1777);
  const l = await layerOf([{ type: 'tree', source: src }]);
  const got = Object.fromEntries((await listLayer(Readable.from([l.blob]))).map((e) => [e.path, e.mode]));
  assert.deepEqual(got, { 'group-w': 0o644, plain: 0o644, sgid: 0o644, 'sticky/': 0o755, suid: 0o755, 'x-other': 0o755, 'x-owner': 0o755 });
});

test('clampMtime keeps older mtimes and clamps newer ones; data entries and parents get the clamp time', async () => {
  const src = await fresh();
  await writeFile(join(src, 'old'), 'o');
  await writeFile(join(src, 'new'), 'n');
  await utimes(join(src, 'old'), 1_000_000_000, 1_000_000_000.9);
  await utimes(join(src, 'new'), 2_000_000_000, 2_000_000_000);
  await utimes(src, 1_500_000_000, 1_500_000_000);
  const clamp = new Date(1_700_000_000_000);
  const l = await layerOf([{ type: 'tree', source: src, path: 'p/q' }, { type: 'file', path: 'p/data', data: 'd' }], { clampMtime: clamp });
  const got = Object.fromEntries((await listLayer(Readable.from([l.blob]))).map((e) => [e.path, e.mtime]));
  assert.deepEqual(got, { 'p/': 1_700_000_000, 'p/data': 1_700_000_000, 'p/q/': 1_500_000_000, 'p/q/new': 1_700_000_000, 'p/q/old': 1_000_000_000 });
  const fixed = await layerOf([{ type: 'tree', source: src }]);
  assert.ok((await listLayer(Readable.from([fixed.blob]))).every((e) => e.mtime === DEFAULT_LAYER_MTIME.getTime() / 1000));
  await assert.rejects(writeLayer([], join(top, 'x.tgz'), { mtime: clamp, clampMtime: clamp }), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
});

test('sockets and FIFOs are skipped and reported; empty directories are kept', async (t) => {
  const src = await fresh();
  await mkdir(join(src, 'empty'));
  await writeFile(join(src, 'file'), 'f');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(src, 'sock'), resolve));
  try {
    const skipped: string[] = [];
    let fifo = false;
    if (needTool(t, 'mkfifo')) {
      execFileSync('mkfifo', [join(src, 'fifo')]);
      fifo = true;
    }
    const l = await layerOf([{ type: 'tree', source: src, path: 'x' }], { onSkip: (p, kind) => skipped.push(`${p}:${kind}`) });
    assert.deepEqual(skipped.sort(), [...(fifo ? ['x/fifo:fifo'] : []), 'x/sock:socket']);
    const paths = (await listLayer(Readable.from([l.blob]))).map((e) => e.path);
    assert.deepEqual(paths, ['x/', 'x/empty/', 'x/file']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('hardlinks: later paths link to the first; a different owner makes a separate copy', async () => {
  const src = await fresh();
  await mkdir(join(src, 'c'));
  await writeFile(join(src, 'a'), 'shared content');
  await link(join(src, 'a'), join(src, 'b'));
  await link(join(src, 'a'), join(src, 'c', 'd'));
  const l = await layerOf([{ type: 'tree', source: src }, { type: 'file', path: 'other-owner', source: join(src, 'a'), uid: 1000 }]);
  const list = await listLayer(Readable.from([l.blob]));
  assert.deepEqual(list.map((e) => [e.path, e.type, e.size, e.linkname]), [
    ['a', 'file', 14, ''],
    ['b', 'hardlink', 0, 'a'],
    ['c/', 'dir', 0, ''],
    ['c/d', 'hardlink', 0, 'a'],
    ['other-owner', 'file', 14, ''],
  ]);
});

test('long and non-ASCII names: PAX only above 100 bytes, readable by tar and tarfile', async (t) => {
  const exactly100 = 'd/' + 'a'.repeat(98);
  const over = 'd/' + 'é'.repeat(60); // 122 bytes: the ustar field holds whole characters only
  const deep = Array.from({ length: 30 }, (_, i) => `dir${i}`).join('/') + '/file';
  const l = await layerOf([
    { type: 'file', path: exactly100, data: '1' },
    { type: 'file', path: over, data: '2' },
    { type: 'file', path: deep, data: '3' },
    { type: 'file', path: 'ünï', data: '4' },
  ]);
  if (!needTool(t, 'python3', 'tar')) return;
  const py = pythonList(l.file) as [string, string, string, number, number, string, string, number, number, string, string[]][];
  const byName = new Map(py.map((m) => [m[0], m[10]]));
  assert.deepEqual(byName.get(exactly100), []);
  assert.deepEqual(byName.get(over), ['path']);
  assert.deepEqual(byName.get(deep), ['path']);
  assert.deepEqual(byName.get('ünï'), []);
  const names = execFileSync('tar', ['-tzf', l.file], { encoding: 'utf8' }).trim().split('\n');
  for (const p of [exactly100, over, deep, 'ünï']) assert.ok(names.includes(p), `GNU tar lists ${p}`);
  // The ustar name field of the entry after the first PAX header (the one for `over`).
  const raw = gunzipSync(l.blob);
  let off = 0;
  while (raw[off + 156] !== 0x78) off += 512 + Math.ceil(parseInt(raw.toString('latin1', off + 124, off + 135), 8) / 512) * 512;
  off += 512 + Math.ceil(parseInt(raw.toString('latin1', off + 124, off + 135), 8) / 512) * 512;
  const field = raw.subarray(off, off + 100);
  const ustarName = field.subarray(0, field.indexOf(0) < 0 ? 100 : field.indexOf(0)).toString('utf8');
  assert.equal(ustarName, 'd/' + 'é'.repeat(49)); // 2 + 98 bytes, no split character
});

test('explicit entries compose with trees; conflicts and bad paths are rejected', async () => {
  const src = await fresh();
  await mkdir(join(src, 'sub'));
  await writeFile(join(src, 'sub', 'f'), 'f');
  const l = await layerOf(
    [
      { type: 'tree', source: src, path: 'cnb/buildpacks/acme/1.0', uid: 1000, gid: 1000, filter: ({ path }) => path !== 'sub/skip' },
      { type: 'dir', path: 'cnb', uid: 0, gid: 0 },
      { type: 'file', path: 'cnb/buildpacks/acme/1.0/buildpack.toml', data: 'api = "0.10"\n', uid: 1000, gid: 1000 },
    ],
    { uid: 7, gid: 8 },
  );
  const list = await listLayer(Readable.from([l.blob]));
  assert.deepEqual(list.map((e) => [e.path, e.uid]), [
    ['cnb/', 0],
    ['cnb/buildpacks/', 7],
    ['cnb/buildpacks/acme/', 7],
    ['cnb/buildpacks/acme/1.0/', 1000],
    ['cnb/buildpacks/acme/1.0/buildpack.toml', 1000],
    ['cnb/buildpacks/acme/1.0/sub/', 1000],
    ['cnb/buildpacks/acme/1.0/sub/f', 1000],
  ]);
  const bad = async (sources: LayerSource[], re: RegExp) =>
    assert.rejects(writeLayer(sources, new Writable({ write: (_c, _e, cb) => cb() })), (e) => isCairnError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message));
  await bad([{ type: 'file', path: 'a', data: '1' }, { type: 'file', path: '/a', data: '2' }], /"a" is given twice/);
  await bad([{ type: 'file', path: '../a', data: '1' }], /invalid layer path/);
  await bad([{ type: 'file', path: '', data: '1' }], /invalid layer path/);
  await bad([{ type: 'symlink', path: 'l', target: 'x' }, { type: 'file', path: 'l/f', data: '1' }], /"l" is a symlink/);
  await bad([{ type: 'tree', source: join(src, 'sub', 'f') }], /is not a directory/);
});

test('tree filter skips files and whole subtrees', async () => {
  const src = await fresh();
  await mkdir(join(src, 'keep', 'deep'), { recursive: true });
  await mkdir(join(src, 'node_modules', 'x'), { recursive: true });
  await writeFile(join(src, 'keep', 'deep', 'a'), 'a');
  await writeFile(join(src, 'keep', 'skip.log'), 'l');
  await writeFile(join(src, 'node_modules', 'x', 'i.js'), 'i');
  const seen: string[] = [];
  const l = await layerOf([{ type: 'tree', source: src, filter: ({ path, type }) => (seen.push(`${type}:${path}`), path !== 'node_modules' && !path.endsWith('.log')) }]);
  const paths = (await listLayer(Readable.from([l.blob]))).map((e) => e.path);
  assert.deepEqual(paths, ['keep/', 'keep/deep/', 'keep/deep/a']);
  assert.ok(seen.includes('dir:node_modules') && !seen.some((s) => s.includes('node_modules/')));
});

// ------------------------------------------------------------------------------------------ gzip and output

test('gzip header has no name, mtime 0 and OS byte 255; level is configurable', async () => {
  const fast = await layerOf(GOLDEN);
  assert.deepEqual([...fast.blob.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255]);
  const best = await layerOf(GOLDEN, { level: 9 });
  assert.deepEqual([...best.blob.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
  assert.equal(best.diffID, fast.diffID);
  await assert.rejects(writeLayer(GOLDEN, join(top, 'bad.tgz'), { level: 10 }), (e) => isCairnError(e, 'INVALID_ARGUMENT'));
});

test('a Writable destination gets the same bytes; it is ended', async () => {
  const chunks: Buffer[] = [];
  let ended = false;
  const w = new Writable({
    highWaterMark: 1, // forces backpressure on every chunk
    write: (c: Buffer, _e, cb) => setImmediate(() => (chunks.push(c), cb())),
    final: (cb) => ((ended = true), cb()),
  });
  const r = await writeLayer(GOLDEN, w);
  const file = await layerOf(GOLDEN);
  assert.equal(ended, true);
  assert.deepEqual(Buffer.concat(chunks), file.blob);
  assert.deepEqual({ ...r }, { digest: file.digest, diffID: file.diffID, size: file.size, tarSize: file.tarSize });
});

test('file destination is atomic: no temporary file is left, and nothing on failure', async () => {
  const dir = await fresh();
  await writeLayer(GOLDEN, join(dir, 'ok.tar.gz'));
  assert.deepEqual(readdirSync(dir), ['ok.tar.gz']);
  await assert.rejects(writeLayer([{ type: 'file', path: 'x', source: join(dir, 'missing') }], join(dir, 'bad.tar.gz')), (e) => isCairnError(e, 'IO') && /missing/.test((e as Error).message));
  assert.deepEqual(readdirSync(dir), ['ok.tar.gz']);
  assert.equal(existsSync(join(dir, 'bad.tar.gz')), false);
});

test('a failing Writable destination rejects with IO', async () => {
  const w = new Writable({ write: (_c, _e, cb) => cb(new Error('disk full')) });
  await assert.rejects(writeLayer(GOLDEN, w), (e) => isCairnError(e, 'IO') && /disk full/.test((e as Error).message));
});

test('writeLayerTar: the same diffID as writeLayer, hashed only or written as a plain tar equal to the gunzipped blob', async () => {
  const gz = await layerOf(GOLDEN, { uid: 1000, gid: 1000 });
  const hashed = await writeLayerTar(GOLDEN, undefined, { uid: 1000, gid: 1000 });
  assert.equal(hashed.diffID, gz.diffID);
  assert.equal(hashed.tarSize, gz.tarSize);
  const file = join(top, 'plain.tar');
  const written = await writeLayerTar(GOLDEN, file, { uid: 1000, gid: 1000 });
  assert.deepEqual(written, hashed);
  assert.deepEqual(readFileSync(file), gunzipSync(gz.blob));
  assert.notEqual((await writeLayerTar(GOLDEN, undefined)).diffID, hashed.diffID, 'owners are part of the tar');
});
