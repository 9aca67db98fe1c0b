/**
 * Hostile archives against extractLayer. Each case builds its tarball here (raw headers from tar-craft.ts,
 * or tar-stream's pack where it can express the case), extracts it into base/root next to a sentinel folder
 * base/sentinel, and asserts that nothing outside the root changed (a snapshot of everything in base except
 * the root, plus /etc/passwd) and that the outcome is the documented one: an error code, or a neutralised
 * result inside the root.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { isCairnError, type ErrorCode } from '../../../src/oci/errors.js';
import { extractLayer, type ExtractOptions, type ExtractStats } from '../../../src/oci/layer/extract.js';
import { gnuLong, gz, pax, tarOf, type RawEntry } from './tar-craft.js';

let top: string;
before(async () => {
  top = await mkdtemp(join(tmpdir(), 'cairn-hostile-'));
});
after(async () => {
  await rm(top, { recursive: true, force: true });
});

interface Box {
  base: string;
  root: string;
  sentinel: string;
  /** The sentinel's absolute path without the leading slash, for entries that aim at it. */
  rel: string;
}

let n = 0;
async function box(): Promise<Box> {
  const base = join(top, `case-${++n}`);
  const root = join(base, 'root');
  const sentinel = join(base, 'sentinel');
  await mkdir(root, { recursive: true });
  await mkdir(join(sentinel, 'dir'), { recursive: true });
  await writeFile(join(sentinel, 'keep'), 'keep');
  await writeFile(join(sentinel, 'dir', 'inner'), 'inner');
  return { base, root, sentinel, rel: sentinel.slice(1) };
}

/** Everything under base except the root: paths, types, modes, sizes, link counts, mtimes, contents. */
function snapshot(base: string): string {
  const lines: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (p === join(base, 'root')) continue;
      const st = lstatSync(p);
      let extra = '';
      if (st.isSymbolicLink()) extra = readlinkSync(p);
      else if (st.isFile()) extra = createHash('sha256').update(readFileSync(p)).digest('hex');
      lines.push(`${p} ${st.mode.toString(8)} ${st.size} ${st.nlink} ${st.mtimeMs} ${extra}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(base);
  const passwd = statSync('/etc/passwd');
  lines.push(`/etc/passwd ${passwd.nlink} ${passwd.mtimeMs} ${createHash('sha256').update(readFileSync('/etc/passwd')).digest('hex')}`);
  return lines.join('\n');
}

/** Extracts the layers in order into b.root; returns the stats of the last one or the error thrown. */
async function extract(b: Box, layers: Buffer[], opts: ExtractOptions = {}): Promise<ExtractStats | Error> {
  const before = snapshot(b.base);
  let result: ExtractStats | Error;
  try {
    let stats: ExtractStats | undefined;
    for (const layer of layers) stats = await extractLayer(Readable.from([layer]), b.root, opts);
    result = stats!;
  } catch (e) {
    result = e as Error;
  }
  assert.equal(snapshot(b.base), before, 'nothing outside the extraction root changed');
  return result;
}

function expectError(r: ExtractStats | Error, code: ErrorCode, message: RegExp): void {
  assert.ok(r instanceof Error, `expected ${code}, got success ${JSON.stringify(r)}`);
  assert.ok(isCairnError(r, code), `expected ${code}, got ${(r as { code?: string }).code}: ${r.message}`);
  assert.match(r.message, message);
}

function expectOk(r: ExtractStats | Error): ExtractStats {
  if (r instanceof Error) throw r;
  return r;
}

const file = (name: string, body: string | Buffer = 'pwned', extra: Partial<RawEntry> = {}): RawEntry => ({ name, body, ...extra });
const symlink = (name: string, target: string): RawEntry => ({ name, type: '2', linkname: target, mode: 0o777 });
const hardlink = (name: string, target: string): RawEntry => ({ name, type: '1', linkname: target });
const dir = (name: string, mode = 0o755): RawEntry => ({ name, type: '5', mode });
const read = (p: string) => readFileSync(p, 'utf8');

// ------------------------------------------------------------------------------------------- path escapes

test('"../x" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([file('../sentinel/keep')])]), 'UNSAFE_ARCHIVE_ENTRY', /"\.\.\/sentinel\/keep".*leaves the extraction root/);
});

test('"a/../../x" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([dir('a/'), file('a/../../sentinel/pwned')])]), 'UNSAFE_ARCHIVE_ENTRY', /leaves the extraction root/);
});

test('"./../x" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([file('./../sentinel/pwned')])]), 'UNSAFE_ARCHIVE_ENTRY', /leaves the extraction root/);
});

test('an absolute name is taken relative to the root', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([file(`${b.sentinel}/pwned`)])]));
  assert.equal(read(join(b.root, b.rel, 'pwned')), 'pwned');
});

// ------------------------------------------------------------------------------------ writes through symlinks

test('symlink to "/" then a write through it stays in the root', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('a', '/'), file(`a/${b.rel}/pwned`)])]));
  assert.equal(read(join(b.root, b.rel, 'pwned')), 'pwned');
  assert.equal(readlinkSync(join(b.root, 'a')), '/');
});

test('symlink to ".." then a write through it stays in the root', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('a', '..'), file('a/sentinel/keep')])]));
  assert.equal(read(join(b.root, 'sentinel', 'keep')), 'pwned');
});

test('symlink chain a -> b -> ../.. is clamped at the root', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('a', 'b'), symlink('b', '../..'), file('a/sentinel/pwned')])]));
  assert.equal(read(join(b.root, 'sentinel', 'pwned')), 'pwned');
});

test('symlink made by an earlier layer is followed inside the root only', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('a', b.sentinel)]), tarOf([file('a/keep'), file('a/dir/inner')])]));
  assert.equal(read(join(b.root, b.rel, 'keep')), 'pwned');
  assert.equal(read(join(b.root, b.rel, 'dir', 'inner')), 'pwned');
});

test('symlink loop is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([symlink('a', 'b'), symlink('b', 'a'), file('a/x')])]), 'UNSAFE_ARCHIVE_ENTRY', /too many levels of symbolic links/);
});

test('directory replaced by a symlink (the swap trick) stays in the root', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([dir('d/'), file('d/ok'), symlink('d', b.sentinel), file('d/pwned')])]));
  assert.ok(lstatSync(join(b.root, 'd')).isSymbolicLink());
  assert.equal(read(join(b.root, b.rel, 'pwned')), 'pwned');
});

test('directory with subfolders swapped for a symlink: folder modes and times are not applied outside', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([dir('d/'), dir('d/dir/', 0o700), symlink('d', b.sentinel)])]));
  assert.ok(lstatSync(join(b.root, 'd')).isSymbolicLink());
});

test('symlink replaced by a directory: later entries go into the real directory', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('d', b.sentinel), dir('d/'), file('d/pwned')])]));
  assert.ok(lstatSync(join(b.root, 'd')).isDirectory());
  assert.equal(read(join(b.root, 'd', 'pwned')), 'pwned');
});

test('directory entry over an existing symlink to outside replaces the symlink', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('d', join(b.sentinel, 'dir'))]), tarOf([dir('d/'), file('d/inner')])]));
  assert.ok(lstatSync(join(b.root, 'd')).isDirectory());
  assert.equal(read(join(b.root, 'd', 'inner')), 'pwned');
});

test('file entry over an existing symlink to outside replaces the symlink, never writes through it', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('f', join(b.sentinel, 'keep'))]), tarOf([file('f')])]));
  assert.ok(lstatSync(join(b.root, 'f')).isFile());
  assert.equal(read(join(b.root, 'f')), 'pwned');
});

test('file entry over a symlink to ".." in the same layer', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('up', '..'), file('up')])]));
  assert.equal(read(join(b.root, 'up')), 'pwned');
});

test('file under a symlink that points at a file outside: resolved inside, then not a directory', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('s', join(b.sentinel, 'keep')), file('s/x')])]));
  // The link resolves to root/<sentinel>/keep, created inside the root as a folder for s/x.
  assert.equal(read(join(b.root, b.rel, 'keep', 'x')), 'pwned');
});

test('tar-stream archive: symlink to "/" and a file written through it', async () => {
  const b = await box();
  const pack = tarStream.pack();
  pack.entry({ name: 'escape', type: 'symlink', linkname: '/' });
  pack.entry({ name: `escape/${b.rel}/ts`, type: 'file' }, 'pwned');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  expectOk(await extract(b, [gz(Buffer.concat(chunks))]));
  assert.equal(read(join(b.root, b.rel, 'ts')), 'pwned');
});

// -------------------------------------------------------------------------------------------------- hardlinks

test('hardlink to /etc/passwd resolves inside the root, where it does not exist', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([hardlink('x', '/etc/passwd')])]), 'INVALID_ARCHIVE', /hardlink target "\/etc\/passwd" does not exist/);
});

test('hardlink to the root\'s etc/passwd, then a file over the link, leaves etc/passwd alone', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([file('etc/passwd', 'root:x:0:0'), hardlink('x', '/etc/passwd'), file('x', 'pwned')])]));
  assert.equal(read(join(b.root, 'etc', 'passwd')), 'root:x:0:0');
  assert.equal(read(join(b.root, 'x')), 'pwned');
  assert.equal(statSync(join(b.root, 'etc', 'passwd')).nlink, 1);
});

test('hardlink to "../outside" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([hardlink('x', '../sentinel/keep')])]), 'UNSAFE_ARCHIVE_ENTRY', /links to "\.\.\/sentinel\/keep", outside the extraction root/);
});

test('hardlink through a symlinked directory resolves inside the root', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([symlink('l', b.sentinel), hardlink('x', 'l/keep')])]), 'INVALID_ARCHIVE', /does not exist/);
  const b2 = await box();
  expectError(await extract(b2, [tarOf([symlink('l', '..'), hardlink('x', 'l/sentinel/keep')])]), 'INVALID_ARCHIVE', /does not exist/);
});

test('hardlink via PAX linkpath to "../../x" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([pax({ linkpath: '../../etc/passwd' }), hardlink('x', 'harmless')])]), 'UNSAFE_ARCHIVE_ENTRY', /outside the extraction root/);
});

test('hardlink to a directory is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([dir('d/'), hardlink('h', 'd')])]), 'INVALID_ARCHIVE', /not a regular file/);
});

test('hardlink to a symlink pointing outside copies the symlink; a file over it replaces it', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('s', join(b.sentinel, 'keep')), hardlink('h', 's')])]));
  assert.equal(readlinkSync(join(b.root, 'h')), join(b.sentinel, 'keep'));
  expectOk(await extract(b, [tarOf([file('h')])]));
  assert.equal(read(join(b.root, 'h')), 'pwned');
});

test('hardlink named through a symlink lands inside the root', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([file('f', 'data'), symlink('l', b.sentinel), hardlink('l/evil', 'f')])]));
  assert.equal(read(join(b.root, b.rel, 'evil')), 'data');
  assert.equal(statSync(join(b.root, 'f')).nlink, 2);
});

// ------------------------------------------------------------------------------------------ special files

test('character device is refused by default, skipped with a warning on request', async () => {
  const b = await box();
  const tar = tarOf([{ name: 'null', type: '3', devmajor: 1, devminor: 3 }]);
  expectError(await extract(b, [tar]), 'UNSAFE_ARCHIVE_ENTRY', /"null".*device node/);
  const warnings: string[] = [];
  const s = expectOk(await extract(b, [tar], { devices: 'skip', onWarning: (w) => warnings.push(w) }));
  assert.equal(s.skipped, 1);
  assert.match(warnings[0]!, /skipped device node "null"/);
  assert.equal(existsSync(join(b.root, 'null')), false);
});

test('block device is refused', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([{ name: 'sda', type: '4', devmajor: 8, devminor: 0 }])]), 'UNSAFE_ARCHIVE_ENTRY', /device node/);
  assert.equal(existsSync(join(b.root, 'sda')), false);
});

test('FIFO is skipped with a warning by default, refused on request', async () => {
  const b = await box();
  const tar = tarOf([{ name: 'pipe', type: '6' }]);
  const warnings: string[] = [];
  const s = expectOk(await extract(b, [tar], { onWarning: (w) => warnings.push(w) }));
  assert.equal(s.skipped, 1);
  assert.match(warnings[0]!, /FIFO "pipe"/);
  assert.equal(existsSync(join(b.root, 'pipe')), false);
  expectError(await extract(b, [tar], { fifos: 'error' }), 'UNSAFE_ARCHIVE_ENTRY', /FIFO/);
});

test('setuid/setgid bits are stripped with stripSetid', async () => {
  const b = await box();
  const tar = tarOf([dir('shared/', 0o2775), file('su', '#!/bin/sh', { mode: 0o4755 }), file('sg', 'x', { mode: 0o2711 })]);
  expectOk(await extract(b, [tar], { stripSetid: true }));
  assert.equal(statSync(join(b.root, 'su')).mode & 0o7777, 0o755);
  assert.equal(statSync(join(b.root, 'sg')).mode & 0o7777, 0o711);
  assert.equal(statSync(join(b.root, 'shared')).mode & 0o7777, 0o775);
  const b2 = await box();
  expectOk(await extract(b2, [tar]));
  assert.equal(statSync(join(b2.root, 'su')).mode & 0o7777, 0o4755);
});

// -------------------------------------------------------------------------------------------------- whiteouts

test('whiteout of "../x" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([file('../.wh.sentinel', '')])]), 'UNSAFE_ARCHIVE_ENTRY', /leaves the extraction root/);
});

test('whiteouts of "." and ".." names are rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([file('.wh..', '')])]), 'UNSAFE_ARCHIVE_ENTRY', /whiteout of an invalid name/);
  expectError(await extract(b, [tarOf([file('a/.wh...', '')])]), 'UNSAFE_ARCHIVE_ENTRY', /whiteout of an invalid name/);
});

test('whiteout through a symlinked directory never reaches outside', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('l', b.sentinel), symlink('up', '..')]), tarOf([file('l/.wh.keep', ''), file('up/.wh.sentinel', '')])]));
});

test('whiteout through an in-root symlink removes the in-root target', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([dir('real/'), file('real/f'), symlink('l', 'real')]), tarOf([file('l/.wh.f', '')])]));
  assert.equal(existsSync(join(b.root, 'real', 'f')), false);
});

test('opaque whiteout in a symlinked directory never reaches outside', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([symlink('l', b.sentinel), symlink('up', '..')]), tarOf([file('l/.wh..wh..opq', ''), file('up/sentinel/.wh..wh..opq', '')])]));
});

// ------------------------------------------------------------------------------------------- header tricks

test('PAX path override to "../x" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([pax({ path: '../sentinel/keep' }), file('innocent')])]), 'UNSAFE_ARCHIVE_ENTRY', /"\.\.\/sentinel\/keep"/);
});

test('GNU long name to "../x" is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([gnuLong('L', '../sentinel/keep'), file('innocent')])]), 'UNSAFE_ARCHIVE_ENTRY', /"\.\.\/sentinel\/keep"/);
});

test('GNU long link to "../x" for a hardlink is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([gnuLong('K', '../sentinel/keep'), hardlink('h', 'innocent')])]), 'UNSAFE_ARCHIVE_ENTRY', /outside the extraction root/);
});

test('entry named "." is the root: a directory is a no-op, anything else is rejected', async () => {
  const b = await box();
  expectOk(await extract(b, [tarOf([dir('./'), dir('.'), file('ok')])]));
  assert.equal(read(join(b.root, 'ok')), 'pwned');
  expectError(await extract(b, [tarOf([file('.')])]), 'UNSAFE_ARCHIVE_ENTRY', /names the extraction root/);
  expectError(await extract(b, [tarOf([symlink('./', b.sentinel)])]), 'UNSAFE_ARCHIVE_ENTRY', /names the extraction root/);
});

test('entry with an empty name is an invalid archive', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([file('')])]), 'INVALID_ARCHIVE', /empty name/);
});

test('NUL byte in a PAX path or GNU long name is rejected', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([pax({ path: 'ok\0/../../sentinel/keep' }), file('x')])]), 'UNSAFE_ARCHIVE_ENTRY', /NUL byte/);
  const long = gnuLong('L', 'x');
  long.body = Buffer.from('ok\0../../sentinel/keep\0');
  expectError(await extract(b, [tarOf([long, file('x')])]), 'UNSAFE_ARCHIVE_ENTRY', /NUL byte/);
});

test('huge size header with a short body is a truncated archive', async () => {
  const b = await box();
  const tar = tarOf([file('big', 'short', { size: 1 << 30 })], { end: false });
  expectError(await extract(b, [tar]), 'INVALID_ARCHIVE', /truncated archive: input ended inside the body of "big"/);
  expectError(await extract(b, [gz(tar)]), 'INVALID_ARCHIVE', /truncated archive/);
});

test('truncated header and bad checksum are invalid archives', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([file('a')]).subarray(0, 300)]), 'INVALID_ARCHIVE', /truncated archive: input ended inside the header/);
  expectError(await extract(b, [tarOf([file('a', 'x', { badChecksum: true })])]), 'INVALID_ARCHIVE', /bad header checksum/);
});

test('corrupt gzip is an invalid archive', async () => {
  const b = await box();
  const g = gz(tarOf([file('a', 'x'.repeat(10000))]));
  g[g.length - 6] = g[g.length - 6]! ^ 0xff; // corrupt the CRC32 in the trailer
  expectError(await extract(b, [g]), 'INVALID_ARCHIVE', /not valid gzip/);
});

test('decompression bomb stops at maxBytes', async () => {
  const b = await box();
  const bomb = gzipSync(tarOf([file('zeros', Buffer.alloc(64 << 20))]), { level: 9 });
  assert.ok(bomb.length < 200 * 1024);
  expectError(await extract(b, [bomb], { maxBytes: 8 << 20 }), 'INVALID_ARCHIVE', /more than 8388608 bytes/);
});

test('file whose parent is a regular file is an invalid archive', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([file('f'), file('f/x')])]), 'INVALID_ARCHIVE', /parent "f" is not a directory/);
});

test('symlink with an empty target is an invalid archive', async () => {
  const b = await box();
  expectError(await extract(b, [tarOf([symlink('s', '')])]), 'INVALID_ARCHIVE', /empty target/);
});
