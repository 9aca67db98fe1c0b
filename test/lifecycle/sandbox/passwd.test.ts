import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { homeOf } from '../../../src/lifecycle/sandbox/passwd.js';

describe('homeOf', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\ncnb:x:1000:1000::/home/cnb/:/bin/bash\nodd:x:1001:1001::relative:/bin/sh\nslash:x:1002:1002::/:/bin/sh\n';

  it('finds the home of a uid, normalised', () => {
    assert.equal(homeOf(passwd, 0), '/root');
    assert.equal(homeOf(passwd, 1000), '/home/cnb');
  });

  it('gives nothing for unknown uids, relative homes and /', () => {
    assert.equal(homeOf(passwd, 1234), undefined);
    assert.equal(homeOf(passwd, 1001), undefined);
    assert.equal(homeOf(passwd, 1002), undefined);
  });
});
