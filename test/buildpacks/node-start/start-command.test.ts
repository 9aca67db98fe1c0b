import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCommand, type StartInputs } from '../../../src/buildpacks/node-start/start-command.js';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';

function inputs(over: Partial<StartInputs>, files: string[] = [], bins: Record<string, string> = {}): StartInputs {
  return { exists: (f) => files.includes(f), binScript: (n) => bins[n], ...over };
}

test('Procfile web first, run directly when it can be', () => {
  const s = startCommand(inputs({ procfileWeb: 'node web.js', startScript: 'node other.js' }, ['server.js']));
  assert.deepEqual(s, { command: ['node', 'web.js'], from: 'Procfile web', shell: false, binPath: false });
  assert.deepEqual(startCommand(inputs({ procfileWeb: 'node web.js --port $PORT' })).command, ['bash', '-c', 'node web.js --port $PORT']);
});

test('scripts.start: plain node directly; a node_modules/.bin program through node; else sh with .bin on PATH', () => {
  assert.deepEqual(startCommand(inputs({ startScript: 'node src/index.js' })).command, ['node', 'src/index.js']);
  assert.deepEqual(startCommand(inputs({ startScript: 'node --enable-source-maps dist/main.js' })).command, ['node', '--enable-source-maps', 'dist/main.js']);
  const next = startCommand(inputs({ startScript: 'next start -p 3000' }, [], { next: '/workspace/node_modules/next/dist/bin/next' }));
  assert.deepEqual(next.command, ['node', '/workspace/node_modules/next/dist/bin/next', 'start', '-p', '3000']);
  assert.equal(next.shell, false);
  const sh = startCommand(inputs({ startScript: 'NODE_ENV=production node server.js' }));
  assert.deepEqual(sh, { command: ['sh', '-c', 'NODE_ENV=production node server.js'], from: 'package.json scripts.start (through sh)', shell: true, binPath: true });
  assert.deepEqual(startCommand(inputs({ startScript: 'serve -s build' })).command, ['sh', '-c', 'serve -s build'], 'not a node script in .bin');
});

test('then main (when the file exists), then server/app/index with .js, .cjs, .mjs', () => {
  assert.deepEqual(startCommand(inputs({ main: 'lib/main.js' }, ['lib/main.js', 'server.js'])).command, ['node', 'lib/main.js']);
  assert.deepEqual(startCommand(inputs({ main: 'lib/missing.js' }, ['app.mjs', 'index.js'])).command, ['node', 'app.mjs']);
  assert.deepEqual(startCommand(inputs({}, ['index.cjs', 'index.mjs'])).command, ['node', 'index.cjs']);
  assert.deepEqual(startCommand(inputs({}, ['server.mjs', 'app.js'])).command, ['node', 'server.mjs']);
});

test('nothing to start: an error saying what was looked for and what to add', () => {
  assert.throws(() => startCommand(inputs({ main: 'gone.js' })), (e: unknown) => e instanceof BuildpackError
    && e.message === 'no start command for this Node.js app'
    && /"main" \(gone\.js: no such file\)/.test(e.output ?? '')
    && /add "scripts": \{ "start": "node server\.js" \}/.test(e.hint ?? ''));
});
