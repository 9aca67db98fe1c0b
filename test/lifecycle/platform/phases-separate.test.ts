/**
 * The phase executables, each in its own process as an orchestrator runs them (analyzer → detector →
 * restorer → builder → exporter), give the same image digest as `creator` running them all in one process.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compileLauncherOnHost } from '../../../src/lifecycle/launcher/compile.js';
import { openLayoutStore } from '../../../src/oci/store/layout/layout-store.js';
import { runCairn } from '../../helpers/cli.js';
import { makeTestImage } from '../../helpers/make-image.js';
import { testRootfs } from '../../helpers/test-rootfs.js';
import { needTool } from '../../helpers/tools.js';
import { FIXTURE_BUILDPACKS } from '../phases/builder-fixtures.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-phases-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function workFolders(name: string) {
  const root = join(base, name);
  const dirs = { app: join(root, 'workspace'), layers: join(root, 'layers'), platform: join(root, 'platform') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  await mkdir(join(dirs.platform, 'env'), { recursive: true });
  await writeFile(join(dirs.platform, 'env', 'GREETER_SEED'), '42');
  await writeFile(join(dirs.app, 'greeting.txt'), 'world');
  return dirs;
}

test('analyze → detect → restore → build → export as separate processes = creator', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const launcher = join(base, 'launcher');
  await compileLauncherOnHost(launcher);
  const layout = join(base, 'images');
  const store = await openLayoutStore(layout, { create: true });
  await makeTestImage(store, 'run', { layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' }]], runtime: { User: '1000:1000' } });
  const order = join(base, 'order.toml');
  await writeFile(order, '[[order]]\n[[order.group]]\nid = "test/greeter"\nversion = "1.0.0"\n');
  const env = { CNB_PLATFORM_API: '0.14', CAIRN_HOME: join(base, 'home') };
  const common = (d: Awaited<ReturnType<typeof workFolders>>) => [
    '-layers', d.layers, '-app', d.app, '-platform', d.platform, '-buildpacks', FIXTURE_BUILDPACKS, '-order', order,
    '-executor', 'bwrap', '-rootfs', testRootfs(), '-launcher', launcher, '-run-image', `oci:${layout}:run`, '-work', base,
  ];

  const one = await workFolders('one');
  const created = await runCairn(['lifecycle', 'creator', ...common(one), `oci:${layout}:by-creator`], { env });
  assert.equal(created.code, 0, created.stderr);
  const report = await readFile(join(one.layers, 'report.toml'), 'utf8');
  const creatorDigest = /digest = "(sha256:[0-9a-f]{64})"/.exec(report)?.[1];
  assert.ok(creatorDigest, report);

  const two = await workFolders('two');
  const flagsFor: Record<string, string[]> = {
    analyzer: ['-layers', two.layers, '-run-image', `oci:${layout}:run`, `oci:${layout}:by-phases`],
    detector: common(two).filter((_, i, a) => !['-launcher', '-run-image'].includes(a[i - (i % 2)]!)),
    restorer: ['-layers', two.layers],
    builder: common(two).filter((_, i, a) => !['-launcher', '-run-image', '-order'].includes(a[i - (i % 2)]!)),
    exporter: ['-layers', two.layers, '-app', two.app, '-launcher', launcher, '-work', base, `oci:${layout}:by-phases`],
  };
  for (const phase of ['analyzer', 'detector', 'restorer', 'builder', 'exporter']) {
    const r = await runCairn(['lifecycle', phase, ...flagsFor[phase]!], { env });
    assert.equal(r.code, 0, `${phase}: ${r.stderr}`);
  }
  const phased = /digest = "(sha256:[0-9a-f]{64})"/.exec(await readFile(join(two.layers, 'report.toml'), 'utf8'))?.[1];
  assert.equal(phased, creatorDigest);

  const noApi = await runCairn(['lifecycle', 'detector', ...flagsFor.detector!], { env: { CNB_PLATFORM_API: '' } });
  assert.equal(noApi.code, 11, 'an unset platform API is exit 11');
  const badFlag = await runCairn(['lifecycle', 'restorer', '-layerz', 'x'], { env });
  assert.equal(badFlag.code, 3);
  assert.match(badFlag.stderr, /unknown flag -layerz/);
});
