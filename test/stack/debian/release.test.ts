import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as openpgp from 'openpgp';
import { loadKeyring, type Keyring } from '../../../src/stack/debian/keyring.js';
import { parseRelease, verifyInRelease } from '../../../src/stack/debian/release.js';
import { clearsign, makeSigningKey } from '../helpers/fake-debian.js';

const RELEASE = `Origin: Debian
Suite: oldstable
Codename: bookworm
Date: Sat, 10 Jun 2023 09:00:00 UTC
Valid-Until: Sat, 17 Jun 2023 09:00:00 UTC
Acquire-By-Hash: yes
SHA256:
 ${'a'.repeat(64)}  1234 main/binary-amd64/Packages
 ${'b'.repeat(64)}   345 main/binary-amd64/Packages.gz
`;

let key: openpgp.PrivateKey;
let keyring: Keyring;
let cleanup: () => Promise<void>;
const now = new Date('2023-06-12T00:00:00Z');

before(async () => {
  const k = await makeSigningKey();
  key = k.privateKey;
  cleanup = k.cleanup;
  keyring = await loadKeyring(k.keysDir);
});
after(() => cleanup());

test('verifyInRelease accepts a good signature and parses the file list', async () => {
  const r = await verifyInRelease(await clearsign(RELEASE, key), { keyring, expectedSuite: 'bookworm', now, what: 'InRelease' });
  assert.equal(r.codename, 'bookworm');
  assert.equal(r.suite, 'oldstable');
  assert.equal(r.date, 'Sat, 10 Jun 2023 09:00:00 UTC');
  assert.equal(r.acquireByHash, true);
  assert.deepEqual(r.files.get('main/binary-amd64/Packages.gz'), { sha256: 'b'.repeat(64), size: 345 });
  assert.equal(r.signedBy.length, 1);
  // The suite alias also matches.
  await verifyInRelease(await clearsign(RELEASE, key), { keyring, expectedSuite: 'oldstable', now, what: 'InRelease' });
});

test('a tampered Release fails with a bad-signature error naming the file', async () => {
  const signed = await clearsign(RELEASE, key);
  const tampered = signed.replace('1234 main/binary-amd64/Packages', '1235 main/binary-amd64/Packages');
  assert.notEqual(tampered, signed);
  await assert.rejects(verifyInRelease(tampered, { keyring, expectedSuite: 'bookworm', now, what: 'http://m/dists/bookworm/InRelease' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'INVALID_ARCHIVE');
    assert.match(e.message, /^bad signature on http:\/\/m\/dists\/bookworm\/InRelease/);
    return true;
  });
});

test('a signature by a key outside the keyring is refused', async () => {
  const other = await makeSigningKey();
  try {
    await assert.rejects(verifyInRelease(await clearsign(RELEASE, other.privateKey), { keyring, expectedSuite: 'bookworm', now, what: 'InRelease' }), /bad signature on InRelease/);
  } finally {
    await other.cleanup();
  }
});

test('an unsigned file is refused', async () => {
  await assert.rejects(verifyInRelease(RELEASE, { keyring, expectedSuite: 'bookworm', now, what: 'InRelease' }), /InRelease is not a clearsigned OpenPGP message/);
});

test('a Release for another suite is refused', async () => {
  await assert.rejects(verifyInRelease(await clearsign(RELEASE, key), { keyring, expectedSuite: 'trixie', now, what: 'InRelease' }), /is for suite "bookworm", not "trixie"/);
});

test('an expired Valid-Until warns by default and fails when checked', async () => {
  const signed = await clearsign(RELEASE, key);
  const later = new Date('2024-01-01T00:00:00Z');
  const warnings: string[] = [];
  await verifyInRelease(signed, { keyring, expectedSuite: 'bookworm', now: later, what: 'InRelease', warn: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /expired on Sat, 17 Jun 2023 09:00:00 UTC/);
  await assert.rejects(verifyInRelease(signed, { keyring, expectedSuite: 'bookworm', now: later, what: 'InRelease', checkValidUntil: true }), /InRelease expired on/);
  const none: string[] = [];
  await verifyInRelease(signed, { keyring, expectedSuite: 'bookworm', now, what: 'InRelease', warn: (m) => none.push(m), checkValidUntil: true });
  assert.deepEqual(none, []);
});

test('parseRelease requires SHA256 hashes and a Date', () => {
  assert.throws(() => parseRelease('Codename: x\nDate: d\n', 'R'), /R lists no SHA256 file hashes/);
  assert.throws(() => parseRelease(`Codename: x\nSHA256:\n ${'a'.repeat(64)} 1 f\n`, 'R'), /R has no Date field/);
  assert.throws(() => parseRelease(`Codename: x\nDate: d\nSHA256:\n zz 1 f\n`, 'R'), /malformed SHA256 line/);
});

test('the bundled Debian archive keys load and verify the real bookworm signature format', async () => {
  const { findBundledKeysDir } = await import('../../../src/stack/debian/keyring.js');
  const dir = findBundledKeysDir(import.meta.url);
  assert.ok(dir, 'stacks/keys is found from the test file');
  const ring = await loadKeyring(dir);
  const ids = ring.keys.map((k) => k.getKeyID().toHex().toUpperCase());
  for (const id of ['B7C5D7D6350947F8', '254CF3B5AEC0A8F0', 'F8D2585B8783D481', '73A4F27B8DD47936', '225629DF75B188BD', '762F67A0B2C39DE4']) {
    assert.ok(ids.includes(id), `key ${id} is bundled`);
  }
});

test('loadKeyring fails clearly on a missing or empty folder', async () => {
  await assert.rejects(loadKeyring('/nonexistent/keys'), /cannot read the keyring folder \/nonexistent\/keys/);
});
