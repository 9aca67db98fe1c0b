/**
 * ustar/PAX header encoding and decoding, and the streaming TarReader on edge cases: PAX record lengths,
 * sizes over 8 GiB (checked against GNU tar), big ids, checksums, ustar prefixes, v7 and GNU headers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCairnError } from '../../../src/oci/errors.js';
import { decodeHeader, decodePax, encodeHeader, paxRecord, TypeFlag, writeUstarHeader, type HeaderFields } from '../../../src/oci/layer/tar-header.js';
import { TarReader, type TarEntry } from '../../../src/oci/layer/tar-reader.js';
import { needTool } from '../../helpers/tools.js';
import { rawHeader, tarOf } from './tar-craft.js';

async function entries(tar: Buffer): Promise<TarEntry[]> {
  const r = new TarReader((async function* () { yield tar; })());
  const out: TarEntry[] = [];
  for (let e = await r.next(); e; e = await r.next()) out.push(e);
  return out;
}

const base = { uid: 0, gid: 0, mode: 0o644, size: 0, mtime: 315532801 };

test('encodeHeader round-trips through the reader; ustar fields are exact', async () => {
  const cases: HeaderFields[] = [
    { ...base, name: 'f', typeflag: TypeFlag.File, size: 5, mode: 0o755, uid: 1000, gid: 1000 },
    { ...base, name: 'd/', typeflag: TypeFlag.Dir, mode: 0o755 },
    { ...base, name: 's', typeflag: TypeFlag.Symlink, mode: 0o777, linkname: '../target' },
    { ...base, name: 'h', typeflag: TypeFlag.Hardlink, linkname: 'f' },
    { ...base, name: 'max-ids', typeflag: TypeFlag.File, uid: 0o7777777, gid: 0o7777777 },
  ];
  const tar = Buffer.concat([...cases.flatMap((h) => [encodeHeader(h), Buffer.alloc(h.size ? 512 : 0)]), Buffer.alloc(1024)]);
  const got = await entries(tar);
  assert.deepEqual(got.map((e) => [e.path, e.typeflag, e.mode, e.uid, e.gid, e.size, e.mtime, e.linkname]),
    cases.map((h) => [h.name, h.typeflag, h.mode, h.uid, h.gid, h.size, h.mtime, h.linkname ?? '']));
  const b = encodeHeader(cases[0]!);
  assert.equal(b.length, 512);
  assert.equal(b.toString('latin1', 100, 108), '0000755\0');
  assert.equal(b.toString('latin1', 124, 136), '00000000005\0');
  assert.equal(b.toString('latin1', 136, 148), '02263523001\0');
  assert.equal(b.toString('latin1', 257, 265), 'ustar\x0000');
  assert.equal(b.toString('latin1', 265, 345).replace(/\0/g, ''), '00000000000000'); // empty uname/gname, zero devices
  assert.match(b.toString('latin1', 148, 156), /^[0-7]{6}\0 $/);
});

test('writeUstarHeader writes in place exactly what encodeHeader returns, and declines PAX cases', () => {
  const h = { ...base, name: 'a/b', typeflag: TypeFlag.File, size: 3 };
  const target = Buffer.alloc(1024, 0xaa);
  assert.equal(writeUstarHeader(h, target, 512), true);
  assert.deepEqual(target.subarray(512), encodeHeader(h));
  assert.ok(target.subarray(0, 512).every((x) => x === 0xaa));
  for (const big of [{ name: 'x'.repeat(101) }, { linkname: 'é'.repeat(51) }, { size: 2 ** 33 }, { uid: 0o10000000 }]) {
    assert.equal(writeUstarHeader({ ...h, ...big }, target, 0), false);
  }
});

test('PAX record lengths are self-consistent across digit boundaries', () => {
  for (let n = 0; n < 1100; n++) {
    const rec = paxRecord('path', 'x'.repeat(n));
    const len = Number(rec.toString('latin1', 0, rec.indexOf(0x20)));
    assert.equal(len, rec.length, `value length ${n}`);
    assert.equal(decodePax(rec, 't').get('path'), 'x'.repeat(n));
  }
  assert.equal(paxRecord('path', 'é').length, Number(paxRecord('path', 'é').toString().split(' ')[0]));
});

test('malformed PAX records are INVALID_ARCHIVE', () => {
  for (const bad of ['abc', '5 path=x\n', '30 path=x\n', '10 pathx\n\n', '0 =\n', '12 path=abc']) {
    assert.throws(() => decodePax(Buffer.from(bad), 'entry #1'), (e) => isCairnError(e, 'INVALID_ARCHIVE'), bad);
  }
});

test('sizes over 8 GiB use a PAX size record (and base-256 in the field); GNU tar agrees', async (t) => {
  const size = 9 * 1024 ** 3;
  const h = encodeHeader({ ...base, name: 'huge', typeflag: TypeFlag.File, size });
  assert.equal(h.length, 512 * 3); // PAX header, records, ustar block
  assert.match(h.toString('latin1', 512, 1024), /^\d+ size=9663676416\n/);
  assert.equal(h[1024 + 124], 0x80);
  const r = new TarReader((async function* () { yield h; })());
  assert.equal((await r.next())!.size, size);
  await assert.rejects(r.next(), (e) => isCairnError(e, 'INVALID_ARCHIVE') && /truncated archive/.test((e as Error).message));
  if (!needTool(t, 'tar')) return;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-hdr-'));
  try {
    await writeFile(join(dir, 'h.tar'), h);
    const out = spawnSync('tar', ['-tvf', join(dir, 'h.tar')], { encoding: 'utf8' });
    assert.match(out.stdout, /^-rw-r--r-- 0\/0 +9663676416 1980-01-01 \d\d:\d\d huge$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('uids and gids over the octal range use PAX records', async () => {
  const tar = Buffer.concat([encodeHeader({ ...base, name: 'u', typeflag: TypeFlag.File, uid: 4_000_000_000, gid: 3_000_000 }), Buffer.alloc(1024)]);
  const [e] = await entries(tar);
  assert.deepEqual([e!.uid, e!.gid], [4_000_000_000, 3_000_000]);
});

test('decodeHeader: zero block ends, bad checksum fails, signed checksums and v7 headers are accepted', () => {
  assert.equal(decodeHeader(Buffer.alloc(512), 'x'), null);
  assert.throws(() => decodeHeader(rawHeader({ name: 'a', badChecksum: true }), 'entry #1'), (e) => isCairnError(e, 'INVALID_ARCHIVE'));
  // A checksum computed over signed bytes (old Sun tar) for a name with a high byte.
  const h = rawHeader({ name: Buffer.from([0x61, 0xe9]) });
  h.fill(0x20, 148, 156);
  let signed = 0;
  for (const x of h) signed += (x << 24) >> 24;
  h.write(signed.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(decodeHeader(h, 'x')!.name.length, 2);
  // v7: no magic; a trailing slash marks a directory.
  const v7 = rawHeader({ name: 'dir/', type: '\0' });
  v7.fill(0, 257, 265);
  v7.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of v7) sum += x;
  v7.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(decodeHeader(v7, 'x')!.typeflag, 0);
});

test('the ustar prefix field is joined to the name; GNU headers do not have one', async () => {
  const withPrefix = (magic: string) => {
    const h = rawHeader({ name: 'c', body: 'x' });
    h.write('a/b', 345, 'latin1');
    h.write(magic, 257, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of h) sum += x;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    return Buffer.concat([h, Buffer.from('x'), Buffer.alloc(511), Buffer.alloc(1024)]);
  };
  assert.equal((await entries(withPrefix('ustar\x0000')))[0]!.path, 'a/b/c');
  assert.equal((await entries(withPrefix('ustar  \0')))[0]!.path, 'c');
});

test('reader: archive ending without zero blocks is accepted; unknown types are reported as unknown', async () => {
  const got = await entries(tarOf([{ name: 'a', body: 'x' }, { name: 'v', type: 'V' }], { end: false }));
  assert.deepEqual(got.map((e) => [e.path, e.type]), [['a', 'file'], ['v', 'unknown']]);
});
