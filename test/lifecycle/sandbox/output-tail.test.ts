import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputTail } from '../../../src/lifecycle/sandbox/output-tail.js';

describe('OutputTail', () => {
  it('keeps everything under the limit, in order', () => {
    const t = new OutputTail(10);
    t.push(Buffer.from('abc'));
    t.push(Buffer.from('def'));
    assert.equal(t.text(), 'abcdef');
  });

  it('keeps exactly the last bytes once over the limit, across chunk boundaries', () => {
    const t = new OutputTail(5);
    for (const c of ['abc', 'defg', 'h', 'ijklmnop', 'q']) t.push(Buffer.from(c));
    assert.equal(t.text(), 'mnopq');
  });

  it('starts at a whole UTF-8 character when the cut falls inside one', () => {
    const t = new OutputTail(5);
    t.push(Buffer.from('xé€z')); // 78 c3 a9 e2 82 ac 7a: the last 5 bytes start with the tail of "é"
    assert.equal(t.text(), '€z');
  });
});
