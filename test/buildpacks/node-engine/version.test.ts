import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseNpm, type NpmRelease } from '../../../src/buildpacks/node-engine/npm-version.js';
import { ltsMajors, type Release, resolveNodeVersion } from '../../../src/buildpacks/node-engine/resolve.js';
import { nodeVersionRequest, parseNodeRequest, versionFileValue } from '../../../src/buildpacks/node-engine/version-request.js';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';

/** Registry-style release list: no LTS flags. */
const REGISTRY: Release[] = ['16.20.1', '16.20.2', '18.20.8', '20.19.0', '20.20.2', '21.0.0', '21.7.3', '22.22.0', '23.0.0', '23.11.1', '24.10.0', '24.11.1', '25.0.0', '25.2.1', '26.0.0', '26.10.0', '27.0.0-rc.1']
  .map((version) => ({ version }));

test('precedence: BP_NODE_VERSION, engines.node, .nvmrc, .node-version, then LTS; the others reported', () => {
  const all = { bpNodeVersion: '22', enginesNode: '^20', nvmrc: 'v18\n', nodeVersionFile: '16.20.2' };
  const r = nodeVersionRequest(all);
  assert.equal(r.source, 'BP_NODE_VERSION');
  assert.deepEqual(r.ignored.map((i) => i.source), ['package.json engines.node', '.nvmrc', '.node-version']);
  assert.equal(nodeVersionRequest({ ...all, bpNodeVersion: undefined }).source, 'package.json engines.node');
  assert.equal(nodeVersionRequest({ nvmrc: '# pinned\n\n  lts/gallium  # comment\n', nodeVersionFile: '16' }).source, '.nvmrc');
  assert.equal(nodeVersionRequest({ nodeVersionFile: '16' }).source, '.node-version');
  const d = nodeVersionRequest({});
  assert.equal(d.source, 'default');
  assert.deepEqual(d.request, { kind: 'lts' });
  assert.throws(() => nodeVersionRequest({ enginesNode: 16 }), /must be a non-empty string/);
  assert.throws(() => nodeVersionRequest({ nvmrc: 'banana' }), (e: unknown) => e instanceof BuildpackError && /\.nvmrc asks for Node\.js "banana"/.test(e.message));
});

test('spellings: ranges, v-prefixes, aliases, LTS forms', () => {
  assert.deepEqual(parseNodeRequest('16'), { kind: 'range', range: '>=16.0.0 <17.0.0-0' });
  assert.deepEqual(parseNodeRequest('v16.20.2'), { kind: 'range', range: '16.20.2' });
  assert.deepEqual(parseNodeRequest('>=v18 <v21'), { kind: 'range', range: '>=18.0.0 <21.0.0-0' });
  assert.equal(parseNodeRequest('16.x')?.kind, 'range');
  assert.deepEqual(parseNodeRequest('lts/*'), { kind: 'lts' });
  assert.deepEqual(parseNodeRequest('LTS/Hydrogen'), { kind: 'lts', codename: 'hydrogen' });
  assert.deepEqual(parseNodeRequest('lts/-1'), { kind: 'lts', back: 1 });
  assert.deepEqual(parseNodeRequest('node'), { kind: 'latest' });
  assert.equal(parseNodeRequest('not-a-version'), undefined);
  assert.equal(versionFileValue('\n# only a comment\n'), undefined);
});

test('resolution: newest match, LTS lines from the registry rule, codenames, errors', () => {
  const at = (raw: string, releases = REGISTRY) => resolveNodeVersion(nodeVersionRequest({ enginesNode: raw }), releases, 'the test registry');
  assert.equal(at('16'), '16.20.2');
  assert.equal(at('^20.19'), '20.20.2');
  assert.equal(at('>=18 <23'), '22.22.0');
  assert.equal(at('*'), '26.10.0', 'prereleases never chosen');
  assert.deepEqual(ltsMajors(REGISTRY), [20, 22, 24], '16 and 18 lack a 17.x / 19.x here; 26 lacks 27.1+');
  assert.equal(resolveNodeVersion(nodeVersionRequest({}), REGISTRY, 'r'), '24.11.1');
  assert.equal(resolveNodeVersion(nodeVersionRequest({ nvmrc: 'lts/-1' }), REGISTRY, 'r'), '22.22.0');
  assert.equal(resolveNodeVersion(nodeVersionRequest({ nvmrc: 'lts/gallium' }), REGISTRY, 'r'), '16.20.2');
  assert.equal(resolveNodeVersion(nodeVersionRequest({ nvmrc: 'node' }), REGISTRY, 'r'), '26.10.0');
  assert.throws(() => resolveNodeVersion(nodeVersionRequest({ nvmrc: 'lts/unicorn' }), REGISTRY, 'r'), /LTS line "unicorn", which is unknown/);
  assert.throws(() => at('>=99'), (e: unknown) => e instanceof BuildpackError
    && /no Node\.js release satisfies package\.json engines\.node ">=99" \(range >=99\.0\.0\) in the test registry/.test(e.message)
    && /majors 16–26, newest 26\.10\.0/.test(e.output ?? '')
    && /change package\.json engines\.node/.test(e.hint ?? ''));
});

test('a dist index says which releases are LTS', () => {
  const dist: Release[] = [{ version: '22.1.0', lts: false }, { version: '22.11.0', lts: 'jod' }, { version: '23.3.0', lts: false }, { version: '24.1.0', lts: false }];
  assert.deepEqual(ltsMajors(dist), [22]);
  assert.equal(resolveNodeVersion(nodeVersionRequest({}), dist, 'r'), '22.11.0');
});

test('npm: the major the Node.js line ships, engines respected, BP_NPM_VERSION, fallbacks', () => {
  const npm: NpmRelease[] = [
    { version: '8.19.4', enginesNode: '^12.13.0 || ^14.15.0 || >=16.0.0' },
    { version: '9.9.4', enginesNode: '^14.17.0 || ^16.13.0 || >=18.0.0' },
    { version: '10.8.2', enginesNode: '^18.17.0 || >=20.5.0' },
    { version: '10.9.4', enginesNode: '^18.17.0 || >=20.5.0' },
    { version: '11.6.0', enginesNode: '^20.17.0 || >=22.9.0' },
    { version: '12.2.0', enginesNode: '^22.14.0 || >=24.0.0' },
    { version: '12.3.0-pre.1', enginesNode: '>=24' },
  ];
  assert.equal(chooseNpm('16.20.2', npm, undefined).version, '8.19.4');
  assert.equal(chooseNpm('18.20.8', npm, undefined).version, '10.9.4');
  assert.equal(chooseNpm('18.0.0', npm, undefined).version, '9.9.4', 'npm 10 refuses 18.0; the newest npm 11/10 that accepts it is none, then any');
  assert.equal(chooseNpm('24.11.1', npm, undefined).version, '11.6.0');
  assert.equal(chooseNpm('26.10.0', npm, undefined).version, '11.6.0', 'a line newer than the table: 11.x');
  assert.equal(chooseNpm('22.22.0', npm, '12').version, '12.2.0');
  assert.throws(() => chooseNpm('16.20.2', npm, '11'), /does not support Node\.js 16\.20\.2/);
  assert.throws(() => chooseNpm('16.20.2', npm, 'eleven'), /not a version or range/);
});
