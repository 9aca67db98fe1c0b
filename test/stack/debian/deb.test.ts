import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { readAr } from '../../../src/stack/debian/ar.js';
import { dataEntries, decodeData, hasMaintainerScripts, readDeb } from '../../../src/stack/debian/deb.js';
import { makeAr, makeDeb, makeTar } from '../helpers/fake-debian.js';

test('readAr splits members, handling odd sizes and GNU names', () => {
  const ar = makeAr([
    { name: 'debian-binary', data: Buffer.from('2.0\n') },
    { name: 'odd/', data: Buffer.from('abc') },
    { name: 'last', data: Buffer.from('xy') },
  ]);
  assert.deepEqual(readAr(ar, 'x.deb').map((m) => [m.name, m.data.toString()]), [['debian-binary', '2.0\n'], ['odd', 'abc'], ['last', 'xy']]);
});

test('readAr rejects bad magic, bad headers and truncation', () => {
  assert.throws(() => readAr(Buffer.from('hello'), 'x.deb'), /x.deb is not an ar archive/);
  const ar = makeAr([{ name: 'a', data: Buffer.from('abcdef') }]);
  assert.throws(() => readAr(ar.subarray(0, ar.length - 2), 'x.deb'), /ar member a is truncated/);
  const bad = Buffer.from(ar);
  bad[8 + 58] = 0x41;
  assert.throws(() => readAr(bad, 'x.deb'), /bad ar member header/);
});

test('readDeb reads the control stanza and control files; decodeData gives the data tar', async () => {
  const deb = await readDeb(
    await makeDeb({ name: 'hello', version: '1.0-1', fields: { Depends: 'libc6' }, files: [{ path: './usr/bin/hello', data: 'bin', mode: 0o755 }], controlFiles: { postinst: '#!/bin/sh\n', md5sums: 'x  usr/bin/hello\n' } }),
    'hello.deb',
  );
  assert.equal(deb.control.get('Package'), 'hello');
  assert.equal(deb.control.get('Depends'), 'libc6');
  assert.deepEqual([...deb.controlFiles.keys()].sort(), ['md5sums', 'postinst']);
  assert.equal(deb.controlFiles.get('postinst')!.mode, 0o755);
  assert.ok(hasMaintainerScripts(deb));
  const names: string[] = [];
  await dataEntries(await decodeData(deb, 'hello.deb'), 'hello.deb', (h) => {
    names.push(`${h.type} ${h.name} ${h.mode.toString(8)}`);
  });
  assert.deepEqual(names, ['directory ./ 755', 'directory ./usr/ 755', 'directory ./usr/bin/ 755', 'file ./usr/bin/hello 755']);
});

test('readDeb refuses zstd members and non-packages clearly', async () => {
  const zst = await makeDeb({ name: 'z', version: '1', dataName: 'data.tar.zst' });
  await assert.rejects(readDeb(zst, 'z_1_amd64.deb'), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && /z_1_amd64.deb: data.tar.zst: zst compression is not supported/.test(e.message));
  const notDeb = makeAr([{ name: 'foo', data: Buffer.from('x') }]);
  await assert.rejects(readDeb(notDeb, 'n.deb'), /n.deb: first member is not debian-binary/);
  const noControl = makeAr([
    { name: 'debian-binary', data: Buffer.from('2.0\n') },
    { name: 'control.tar.gz', data: gzipSync(await makeTar([{ path: './md5sums', data: '' }])) },
    { name: 'data.tar.gz', data: gzipSync(await makeTar([])) },
  ]);
  await assert.rejects(readDeb(noControl, 'c.deb'), /c.deb: the control member has no control file/);
  const v3 = makeAr([{ name: 'debian-binary', data: Buffer.from('3.0\n') }]);
  await assert.rejects(readDeb(v3, 'v3.deb'), /unsupported package format 3.0/);
});
