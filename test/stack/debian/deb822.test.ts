import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStanza } from '../../../src/stack/debian/deb822.js';

const CONTROL = `Package: libfoo1
Version: 1.0-1
Depends: libc6 (>= 2.34),
 libbar2
Description: a library
 Long text.
 .
  indented line
`;

test('parseStanza reads fields case-insensitively and joins continuation lines', () => {
  const st = parseStanza(CONTROL, 'control');
  assert.equal(st.get('package'), 'libfoo1');
  assert.equal(st.get('DEPENDS'), 'libc6 (>= 2.34),\nlibbar2');
  assert.equal(st.get('Description'), 'a library\nLong text.\n.\n indented line');
  assert.equal(st.get('Missing'), undefined);
});

test('format round-trips a stanza byte for byte', () => {
  assert.equal(parseStanza(CONTROL, 'control').format(), CONTROL);
});

test('require names the source and field when missing', () => {
  const st = parseStanza('Package: x\n', 'index entry x');
  assert.throws(() => st.require('Filename', 'index entry x'), /index entry x has no Filename field/);
});

test('parseStanza rejects malformed lines with their source', () => {
  assert.throws(() => parseStanza(' leading continuation\n', 'f'), /f: continuation line before any field/);
  assert.throws(() => parseStanza('Package libfoo\n', 'f'), /f: malformed line "Package libfoo"/);
});

test('parseStanza accepts CRLF line ends and comment lines', () => {
  const st = parseStanza('# comment\r\nPackage: a\r\nVersion: 1\r\n', 'x');
  assert.equal(st.get('Package'), 'a');
  assert.equal(st.get('Version'), '1');
});
