import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Digest } from '../../src/oci/digest.js';
import { progressReporter } from '../../src/cli/progress-reporter.js';

const A = `sha256:${'a'.repeat(64)}` as Digest;
const B = `sha256:${'b'.repeat(64)}` as Digest;

function capture(tty: boolean): { out: PassThrough & { isTTY?: boolean }; text: () => string } {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean };
  out.isTTY = tty;
  let text = '';
  out.on('data', (d) => (text += d));
  return { out, text: () => text };
}

test('not a terminal: one plain line per blob moved and per retry; skipped blobs are silent', () => {
  const { out, text } = capture(false);
  const r = progressReporter(out, 'push');
  r.sink({ kind: 'blob-start', digest: A, total: 2048, action: 'upload' });
  r.sink({ kind: 'blob-progress', digest: A, done: 1024, total: 2048 });
  r.sink({ kind: 'retry', what: `blob ${A.slice(0, 19)}`, attempt: 2, delayMs: 1500, reason: 'HTTP 503' });
  r.sink({ kind: 'blob-done', digest: A, total: 2048, action: 'upload' });
  r.sink({ kind: 'blob-done', digest: B, total: 10, action: 'skip' });
  r.end();
  assert.equal(text(), `push: retrying blob sha256:aaaaaaaaaaaa in 1.5 s (attempt 2): HTTP 503\npush: upload aaaaaaaaaaaa 2.0 KiB\n`);
});

test('a terminal: one line rewritten with blobs and bytes, throttled, ended with a newline', () => {
  const { out, text } = capture(true);
  let t = 0;
  const r = progressReporter(out, 'pull', () => t);
  r.sink({ kind: 'blob-start', digest: A, total: 1000, action: 'download' });
  t = 50;
  r.sink({ kind: 'blob-progress', digest: A, done: 500, total: 1000 }); // within 100 ms: not drawn
  t = 200;
  r.sink({ kind: 'blob-progress', digest: A, done: 700, total: 1000 });
  r.sink({ kind: 'blob-done', digest: A, total: 1000, action: 'download' });
  r.end();
  const frames = text().split('\r').filter(Boolean);
  assert.deepEqual(frames.map((f) => f.replace('\x1b[K', '')), ['pull: 0/1 blobs, 0 B of 1000 B', 'pull: 0/1 blobs, 700 B of 1000 B', 'pull: 1/1 blobs, 1000 B of 1000 B\n']);
});
