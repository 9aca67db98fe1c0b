/**
 * The CLI loads each command's module only when it runs (src/cli/main.ts), and bin/cairn.js runs the CLI split
 * into chunks (dist/cli.mjs + dist/cli-chunk-*.mjs). Help, unknown commands and errors must read as when every
 * command was loaded, and the installed files must be enough to run it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { commandsFor, run } from '../../src/cli/main.js';
import { VERSION } from '../../src/cli/version.js';

const ALL = ['build', 'image', 'lifecycle', 'rebase', 'inspect', 'diff', 'run', 'sbom', 'stack', 'builder', 'buildpack', 'config'];

async function cairn(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const code = await run(argv, { env: { CAIRN_HOME: join(tmpdir(), 'cairn-main-test-unused') }, cwd: tmpdir(), stdout: out, stderr: err, now: () => new Date(0) });
  return { code, stdout, stderr };
}

test('a command loads only its own module; help and unknown commands load them all', () => {
  assert.deepEqual(commandsFor(['image', 'copy', 'oci:a:b', 'oci:c:d']), ['image']);
  assert.deepEqual(commandsFor(['-v', 'build', 'app']), ['build']);
  assert.deepEqual(commandsFor(['diff', 'a', 'b']), ['diff']);
  assert.deepEqual(commandsFor(['--version']), []);
  for (const argv of [[], ['--help'], ['--version', '--help'], ['help', 'image'], ['nosuch'], ['imag']]) assert.deepEqual(commandsFor(argv), ALL, argv.join(' '));
});

test('--help lists every command', async () => {
  const r = await cairn(['--help']);
  assert.equal(r.code, 0);
  for (const name of ALL) assert.match(r.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
});

test('--version prints the version', async () => {
  const r = await cairn(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), VERSION);
});

test('an unknown command is a usage error that suggests the known one', async () => {
  const r = await cairn(['imag', 'ls']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown command 'imag'$/m);
  assert.match(r.stderr, /Did you mean image\?/);
});

test('a lazily loaded command reports errors in the same format, with the stack only under --verbose', async () => {
  const r = await cairn(['image', 'copy', 'ftp:/x/y', 'oci:/tmp/z:t']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown transport "ftp:"/);
  assert.doesNotMatch(r.stderr, /    at /);
  const v = await cairn(['-v', 'image', 'copy', 'ftp:/x/y', 'oci:/tmp/z:t']);
  assert.equal(v.code, 2);
  assert.match(v.stderr, /    at /);
  const usage = await cairn(['image', 'copy', 'only-one-argument']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing required argument 'dst'/);
});

test('bin/cairn runs from a copy of the package holding only bin/, the CLI chunks and package.json, also through a symlink', async () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const copy = await mkdtemp(join(tmpdir(), 'cairn-copied-'));
  try {
    await cp(join(root, 'bin'), join(copy, 'bin'), { recursive: true });
    await cp(join(root, 'package.json'), join(copy, 'package.json'));
    await mkdir(join(copy, 'dist'));
    const chunks = (await readdir(join(root, 'dist'))).filter((f) => /^cli(-chunk-[A-Z0-9]+)?\.mjs$/.test(f));
    assert.ok(chunks.length > 2, `the CLI is split: ${chunks.join(' ')}`);
    for (const f of chunks) await cp(join(root, 'dist', f), join(copy, 'dist', f));
    // commander and the other dependencies are bundled; only openpgp (for stacks) comes from node_modules.
    const env = { ...process.env, CAIRN_HOME: join(copy, 'home') };
    const node = (...args: string[]) => spawnSync(join(copy, 'bin', 'cairn'), args, { cwd: copy, encoding: 'utf8', env });
    const version = node('--version');
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    // As npm installs the bin: a symlink in another folder (node_modules/.bin/cairn → ../../bin/cairn).
    await mkdir(join(copy, 'node_modules', '.bin'), { recursive: true });
    await symlink('../../bin/cairn', join(copy, 'node_modules', '.bin', 'cairn'));
    const linked = spawnSync(join(copy, 'node_modules', '.bin', 'cairn'), ['--version'], { cwd: tmpdir(), encoding: 'utf8', env });
    assert.equal(linked.status, 0, linked.stderr);
    assert.equal(linked.stdout.trim(), VERSION);
    const help = node('image', '--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^  copy \[options\] <src> <dst>/m);
    const copied = node('image', 'copy', 'oci:missing-layout:t', 'oci:out:t');
    assert.equal(copied.status, 1);
    assert.match(copied.stderr, /^error: .*missing-layout/);
    await rm(join(copy, 'dist'), { recursive: true });
    const unbuilt = node('--version');
    assert.equal(unbuilt.status, 1);
    assert.match(unbuilt.stderr, /cairn is not built/);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
});
