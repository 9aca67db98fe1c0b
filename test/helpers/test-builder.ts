/**
 * A builder image as `cairn builder create` lays one out (pack's layout), made from test parts: the test
 * rootfs, the greeter fixture buildpack at /cnb/buildpacks, /cnb/order.toml, /cnb/run.toml naming
 * `test-run:v1`, and a launcher compiled on the host; plus that run image. Written to an OCI layout.
 */
import { join } from 'node:path';
import { writeImage } from '../../src/oci/copy.js';
import { makeImage } from '../../src/oci/image.js';
import { fileLayer } from '../../src/oci/layer.js';
import { writeLayer } from '../../src/oci/layer/tar-writer.js';
import { openLayoutStore } from '../../src/oci/store/layout/layout-store.js';
import { compileLauncherOnHost } from '../../src/lifecycle/launcher/compile.js';
import { FIXTURE_BUILDPACKS } from '../lifecycle/phases/builder-fixtures.js';
import { makeTestImage } from './make-image.js';
import { testRootfs } from './test-rootfs.js';

/** Writes `test-builder:latest` and `test-run:v1` into the layout at `storeDir`; `scratch` holds blobs. */
export async function makeTestBuilder(storeDir: string, scratch: string): Promise<void> {
  const store = await openLayoutStore(storeDir, { create: true });
  const launcher = join(scratch, 'launcher');
  await compileLauncherOnHost(launcher);
  const blob = (n: string) => join(scratch, `builder-${n}.tar.gz`);
  const rootfs = await writeLayer([{ type: 'tree', source: testRootfs() }], blob('rootfs'));
  const cnb = await writeLayer([
    { type: 'tree', source: join(FIXTURE_BUILDPACKS, 'test_greeter'), path: 'cnb/buildpacks/test_greeter' },
    { type: 'file', path: 'cnb/order.toml', data: '[[order]]\n[[order.group]]\nid = "test/greeter"\nversion = "1.0.0"\n' },
    { type: 'file', path: 'cnb/run.toml', data: '[[images]]\nimage = "test-run:v1"\n' },
    { type: 'file', path: 'cnb/lifecycle/launcher', source: launcher },
  ], blob('cnb'));
  const builder = makeImage({
    architecture: 'amd64', os: 'linux',
    config: { User: '1000:1000', Env: ['PATH=/usr/bin:/bin', 'CNB_USER_ID=1000', 'CNB_GROUP_ID=1000'], WorkingDir: '/layers' },
    rootfs: { type: 'layers', diff_ids: [] },
  }, [fileLayer(blob('rootfs'), rootfs), fileLayer(blob('cnb'), cnb)]);
  await writeImage(builder, store, 'test-builder:latest');
  await makeTestImage(store, 'test-run:v1', { layers: [[{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' }]], runtime: { User: '1000:1000' } });
}
