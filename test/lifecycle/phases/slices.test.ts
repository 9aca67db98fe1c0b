import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReadStream } from 'node:fs';
import { listLayer } from '../../../src/oci/layer/list.js';
import { writeLayer } from '../../../src/oci/layer/tar-writer.js';
import { globToRegExp, planSlices } from '../../../src/lifecycle/phases/slices.js';

test('globs follow Go filepath.Match', () => {
  const cases: [string, string, boolean][] = [
    ['public/*', 'public/a.css', true],
    ['public/*', 'public/css/a.css', false],
    ['*.js', 'index.js', true],
    ['*.js', 'lib/index.js', false],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['[ab]*', 'beta', true],
    ['[^ab]*', 'beta', false],
    ['\\*', '*', true],
    ['x.y', 'xzy', false],
  ];
  for (const [glob, path, want] of cases) assert.equal(globToRegExp(glob).test(path), want, `${glob} vs ${path}`);
});

test('each slice claims what no earlier slice did; the rest makes the last layer', async () => {
  const app = await mkdtemp(join(tmpdir(), 'cairn-slices-'));
  try {
    await mkdir(join(app, 'public', 'img'), { recursive: true });
    await mkdir(join(app, 'src'), { recursive: true });
    await writeFile(join(app, 'public', 'a.css'), 'a');
    await writeFile(join(app, 'public', 'b.js'), 'b');
    await writeFile(join(app, 'public', 'img', 'c.png'), 'c');
    await writeFile(join(app, 'src', 'index.js'), 'i');
    await writeFile(join(app, 'package.json'), '{}');
    const plan = await planSlices(app, '/workspace', [{ paths: ['public/*.css'] }, { paths: ['/workspace/public/*'] }]);
    const files = async (filter: (e: { path: string; type: string }) => boolean) => {
      const out = join(app, '..', `slice-${Math.random()}.tgz`);
      await writeLayer([{ type: 'tree', source: app, path: 'workspace', filter }], out);
      const names = (await listLayer(createReadStream(out))).map((e) => e.path.replace(/\/$/, ''));
      await rm(out);
      return names;
    };
    assert.deepEqual(await files(plan.slices[0]!), ['workspace', 'workspace/public', 'workspace/public/a.css']);
    assert.deepEqual(await files(plan.slices[1]!), ['workspace', 'workspace/public', 'workspace/public/b.js', 'workspace/public/img', 'workspace/public/img/c.png']);
    assert.deepEqual(await files(plan.remainder), ['workspace', 'workspace/package.json', 'workspace/public', 'workspace/src', 'workspace/src/index.js']);
  } finally {
    await rm(app, { recursive: true, force: true });
  }
});
