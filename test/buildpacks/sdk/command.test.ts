import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheKey } from '../../../src/buildpacks/sdk/cache-key.js';
import { commandFor, splitSimpleCommand } from '../../../src/buildpacks/sdk/command.js';
import { BuildpackError } from '../../../src/buildpacks/sdk/errors.js';
import { parseProcfile } from '../../../src/buildpacks/sdk/procfile.js';

test('commands without shell syntax run directly; others through bash', () => {
  assert.deepEqual(splitSimpleCommand('node  src/index.js --port 3000'), ['node', 'src/index.js', '--port', '3000']);
  assert.deepEqual(splitSimpleCommand('node --max-old-space-size=512 server.js'), ['node', '--max-old-space-size=512', 'server.js']);
  for (const shell of ['node $APP', 'node a.js && node b.js', 'NODE_ENV=prod node a.js', "node 'my app.js'", 'node a.js > log', 'cd api; node a.js', 'node *.js', 'node ~/a.js', 'node a.js # c']) {
    assert.equal(splitSimpleCommand(shell), undefined, shell);
  }
  assert.deepEqual(commandFor('echo "$PORT"'), { command: ['bash', '-c', 'echo "$PORT"'], shell: true });
  assert.deepEqual(commandFor(' perl server.pl '), { command: ['perl', 'server.pl'], shell: false });
});

test('Procfile: one process per line, comments and blanks skipped, errors name the line', () => {
  assert.deepEqual(parseProcfile('# comment\n\nweb: node server.js\r\nworker:   node worker.js --queue=a\n'), [
    { type: 'web', command: 'node server.js' },
    { type: 'worker', command: 'node worker.js --queue=a' },
  ]);
  assert.throws(() => parseProcfile('web: a\nweb: b'), (e: unknown) => e instanceof BuildpackError && /"web" twice \(line 2\)/.test(e.message));
  assert.throws(() => parseProcfile('web node a.js'), (e: unknown) => e instanceof BuildpackError && /line 1 is not "<type>: <command>"/.test(e.message));
  assert.throws(() => parseProcfile('web:'), BuildpackError);
});

test('cache keys: every part counts, boundaries too, absent differs from empty, order does not', () => {
  const k = cacheKey({ a: 'x', b: 'yz' });
  assert.match(k, /^sha256:[0-9a-f]{64}$/);
  assert.equal(k, cacheKey({ b: 'yz', a: 'x' }));
  assert.notEqual(k, cacheKey({ a: 'xy', b: 'z' }));
  assert.notEqual(cacheKey({ a: undefined }), cacheKey({ a: '' }));
  assert.notEqual(k, cacheKey({ a: 'x', b: 'yz', c: '' }));
  assert.equal(cacheKey({ a: Buffer.from('x') }), cacheKey({ a: 'x' }));
});
