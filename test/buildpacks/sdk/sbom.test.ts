import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentUuid, cycloneDx, hashesFromIntegrity, isSpdxExpression, npmPurl, sbomCreated, type SbomComponent, spdx } from '../../../src/buildpacks/sdk/sbom.js';

const subject = { name: 'cairn/npm-install:launch-modules', tool: { name: 'cairn/npm-install', version: '0.1.0' } };
const a: SbomComponent = { name: 'express', version: '4.22.3', purl: npmPurl('express', '4.22.3'), license: 'MIT', hashes: hashesFromIntegrity('sha512-Bdcs4+3qlpVlx2NRn6fgX2Ue2/gGRaPeawebgclM0ERSCqDpA+owF1fdPwjJUTAJWMTuAaxjDf+hzb0/4eKvvw==') };
const b: SbomComponent = { name: '@types/node', version: '20.1.0', purl: npmPurl('@types/node', '20.1.0'), license: 'SEE LICENSE IN LICENSE.md' };
const c: SbomComponent = { name: 'dual', version: '1.0.0', purl: npmPurl('dual', '1.0.0'), license: '(MIT OR Apache-2.0)', downloadUrl: 'https://registry.example/dual-1.0.0.tgz' };

test('CycloneDX: same components in any order, same bytes; serial derived from content; no timestamp', () => {
  const one = cycloneDx(subject, [a, b, c]);
  const two = cycloneDx(subject, [c, a, b, a]);
  assert.equal(one, two);
  const doc = JSON.parse(one);
  assert.equal(doc.bomFormat, 'CycloneDX');
  assert.equal(doc.specVersion, '1.5');
  assert.match(doc.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.doesNotMatch(one, /timestamp|"created"/);
  assert.deepEqual(doc.components.map((x: { name: string }) => x.name), ['@types/node', 'dual', 'express'], 'sorted by purl');
  assert.equal(doc.components[0].purl, 'pkg:npm/%40types/node@20.1.0');
  assert.deepEqual(doc.components[0].licenses, [{ license: { name: 'SEE LICENSE IN LICENSE.md' } }]);
  assert.deepEqual(doc.components[1].licenses, [{ expression: '(MIT OR Apache-2.0)' }]);
  assert.deepEqual(doc.components[1].externalReferences, [{ type: 'distribution', url: 'https://registry.example/dual-1.0.0.tgz' }]);
  assert.equal(doc.components[2].hashes[0].alg, 'SHA-512');
  assert.match(doc.components[2].hashes[0].content, /^[0-9a-f]{128}$/);
  const other = JSON.parse(cycloneDx(subject, [a, b]));
  assert.notEqual(other.serialNumber, doc.serialNumber, 'different content, different serial');
});

test('SPDX 2.3: deterministic, creation time fixed or from SOURCE_DATE_EPOCH, licenses only when SPDX expressions', () => {
  const one = spdx(subject, [a, b, c]);
  assert.equal(one, spdx(subject, [b, c, a]));
  const doc = JSON.parse(one);
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.equal(doc.creationInfo.created, '1980-01-01T00:00:01Z');
  assert.match(doc.documentNamespace, /^https:\/\/spdx\.org\/spdxdocs\/cairn-npm-install-launch-modules-[0-9a-f-]{36}$/);
  assert.deepEqual(doc.packages.map((p: { licenseDeclared: string }) => p.licenseDeclared), ['NOASSERTION', '(MIT OR Apache-2.0)', 'MIT']);
  assert.equal(doc.relationships.length, 3);
  assert.ok(doc.packages.every((p: { SPDXID: string }) => /^SPDXRef-Package-[0-9a-f]{16}$/.test(p.SPDXID)));
  assert.equal(JSON.parse(spdx({ ...subject, created: sbomCreated('1700000000') }, [a])).creationInfo.created, '2023-11-14T22:13:20Z');
  assert.equal(sbomCreated('not a number'), '1980-01-01T00:00:01Z');
  assert.equal(sbomCreated(undefined), '1980-01-01T00:00:01Z');
});

test('SPDX expressions are told from free text', () => {
  for (const e of ['MIT', 'Apache-2.0', '(MIT OR Apache-2.0)', 'GPL-2.0+', 'MIT AND (BSD-3-Clause OR ISC)', 'Apache-2.0 WITH LLVM-exception', 'LicenseRef-Custom']) assert.ok(isSpdxExpression(e), e);
  for (const e of ['SEE LICENSE IN LICENSE', 'Public Domain', 'UNLICENSED', 'MIT OR', '(MIT', '', 'MIT)']) assert.ok(!isSpdxExpression(e), e);
});

test('content UUIDs are stable and version-5 shaped', () => {
  assert.equal(contentUuid('x'), contentUuid('x'));
  assert.notEqual(contentUuid('x'), contentUuid('y'));
  assert.match(contentUuid('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
