/**
 * A no-op rebuild (src/platform/build-record.ts): the same inputs and the image still at its output → the lifecycle
 * does not run and the recorded image is reused. Any change of input runs it: the app's content (not its mtime),
 * --env, --clear-cache; and so does an output that no longer holds the image.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCairn } from '../helpers/cli.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { needTool } from '../helpers/tools.js';

let base: string;
let storeDir: string;
let app: string;
let env: Record<string, string>;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-reuse-'));
  storeDir = join(base, 'store');
  await makeTestBuilder(storeDir, base);
  app = join(base, 'app');
  await mkdir(app);
  await writeFile(join(app, 'greeting.txt'), 'hi');
  env = { CAIRN_HOME: join(base, 'home') };
});
after(async () => rm(base, { recursive: true, force: true }));

async function build(extra: string[] = []): Promise<{ reused: boolean; digest: string }> {
  const r = await runCairn(['build', 'reuse', '--path', app, '--builder', `oci:${storeDir}:test-builder:latest`, '--run-image', `oci:${storeDir}:test-run:v1`,
    '--env', 'GREETER_SEED=1', '--json', ...extra], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { reused: boolean; digest: string; buildpacks: { id: string }[] };
  assert.deepEqual(out.buildpacks.map((b) => b.id), ['test/greeter'], 'the group is reported either way');
  return { reused: out.reused, digest: out.digest };
}

test('same inputs: reused; a change of content, env, --clear-cache or a missing image: built', async (t) => {
  if (!needTool(t, 'bwrap', 'cc')) return;
  const first = await build();
  assert.equal(first.reused, false);
  const again = await build();
  assert.deepEqual(again, { ...first, reused: true });

  await utimes(join(app, 'greeting.txt'), new Date('2030-01-01'), new Date('2030-01-01'));
  assert.equal((await build()).reused, true, 'an mtime is not an input');

  await writeFile(join(app, 'greeting.txt'), 'hello');
  const changed = await build();
  assert.equal(changed.reused, false);
  assert.notEqual(changed.digest, first.digest);
  assert.equal((await build()).reused, true);

  assert.equal((await build(['--env', 'OTHER=1'])).reused, false, 'another build env');
  assert.equal((await build(['--env', 'OTHER=1', '--clear-cache'])).reused, false, '--clear-cache always builds');

  const rm = await runCairn(['image', 'rm', 'reuse'], { env });
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal((await build(['--env', 'OTHER=1'])).reused, false, 'the image is gone from the output');
});
