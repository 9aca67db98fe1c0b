import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { parseStanza } from '../../../src/stack/debian/deb822.js';
import { RootTree } from '../../../src/stack/root-tree.js';
import { writeCaBundle } from '../../../src/stack/rootfs/ca-bundle.js';
import { infoName, type InstalledPackage, writeDpkgDatabase, writeStatusD } from '../../../src/stack/rootfs/dpkg-db.js';
import { hasOsRelease, writeExtraFiles, writeTempDirs, writeTimezone } from '../../../src/stack/rootfs/system-files.js';
import { writeUsers } from '../../../src/stack/rootfs/users.js';

let base: string;
let tree: RootTree;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'cairn-rootfs-'));
  tree = new RootTree(join(base, 'root'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const user = { uid: 1000, gid: 1000, name: 'cnb', group: 'cnb', home: '/home/cnb', shell: '/bin/sh' };
const read = (p: string): string => readFileSync(join(tree.root, p), 'utf8');

test('writeUsers: a minimal passwd/group without base-passwd, the home owned by the user', () => {
  writeUsers(tree, user);
  assert.equal(read('etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\ncnb:x:1000:1000:CNB user:/home/cnb:/bin/sh\n');
  assert.equal(read('etc/group'), 'root:x:0:\nnogroup:x:65534:\ncnb:x:1000:\n');
  assert.deepEqual(tree.entry('home/cnb'), { path: 'home/cnb', kind: 'dir', mode: 0o755, uid: 1000, gid: 1000 });
  assert.equal(tree.entry('root')?.mode, 0o700);
});

test('writeUsers starts from base-passwd master files and refuses clashes', () => {
  tree.writeFile('usr/share/base-passwd/passwd.master', 'root:*:0:0:root:/root:/bin/bash\ndaemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n', { mode: 0o644 });
  tree.writeFile('usr/share/base-passwd/group.master', 'root:*:0:\ndaemon:*:1:\n', { mode: 0o644 });
  writeUsers(tree, user);
  assert.equal(read('etc/passwd').split('\n')[1], 'daemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin');
  assert.equal(read('etc/passwd').split('\n')[2], 'cnb:x:1000:1000:CNB user:/home/cnb:/bin/sh');
  const t2 = new RootTree(join(base, 'r2'));
  assert.throws(() => writeUsers(t2, { ...user, uid: 65534 }), /the CNB user cnb \(uid 65534\) collides with the system user entry "nobody/);
  assert.throws(() => writeUsers(new RootTree(join(base, 'r3')), { ...user, group: 'nogroup', gid: 5 }), /CNB group nogroup/);
});

test('writeCaBundle concatenates the certificates sorted bytewise, adding missing newlines, and links them', () => {
  tree.writeFile('usr/share/ca-certificates/mozilla/b.crt', 'B\n', { mode: 0o644 });
  tree.writeFile('usr/share/ca-certificates/mozilla/A (x), y.crt', 'A-no-newline', { mode: 0o644 });
  tree.writeFile('usr/share/ca-certificates/extra/Z.crt', 'Z\n', { mode: 0o644 });
  tree.writeFile('usr/share/ca-certificates/mozilla/readme.txt', 'not a cert', { mode: 0o644 });
  assert.equal(writeCaBundle(tree), 3);
  assert.equal(read('etc/ssl/certs/ca-certificates.crt'), 'Z\nA-no-newline\nB\n');
  assert.deepEqual(read('etc/ca-certificates.conf').split('\n').filter((l) => l && !l.startsWith('#')), ['extra/Z.crt', 'mozilla/A (x), y.crt', 'mozilla/b.crt']);
  assert.equal(readlinkSync(join(tree.root, 'etc/ssl/certs/A_x__y.pem')), '/usr/share/ca-certificates/mozilla/A (x), y.crt');
  assert.equal(readlinkSync(join(tree.root, 'etc/ssl/certs/b.pem')), '/usr/share/ca-certificates/mozilla/b.crt');
  assert.equal(writeCaBundle(new RootTree(join(base, 'empty'))), 0, 'nothing without ca-certificates');
  // Local certificates follow, linked but not listed in the conf.
  tree.writeFile('usr/local/share/ca-certificates/corp/Corp Root.crt', 'CORP\n', { mode: 0o644 });
  assert.equal(writeCaBundle(tree), 4);
  assert.equal(read('etc/ssl/certs/ca-certificates.crt'), 'Z\nA-no-newline\nB\nCORP\n');
  assert.equal(readlinkSync(join(tree.root, 'etc/ssl/certs/Corp_Root.pem')), '/usr/local/share/ca-certificates/corp/Corp Root.crt');
  assert.ok(!read('etc/ca-certificates.conf').includes('Corp'));
});

test('writeTimezone links the zone when tzdata is there, refuses unknown zones', () => {
  assert.equal(writeTimezone(tree, 'Etc/UTC'), false);
  tree.writeFile('usr/share/zoneinfo/Etc/UTC', 'TZif', { mode: 0o644 });
  assert.equal(writeTimezone(tree, 'Etc/UTC'), true);
  assert.equal(readlinkSync(join(tree.root, 'etc/localtime')), '/usr/share/zoneinfo/Etc/UTC');
  assert.equal(read('etc/timezone'), 'Etc/UTC\n');
  assert.throws(() => writeTimezone(tree, 'Mars/Olympus'), /time zone "Mars\/Olympus" is not in tzdata/);
});

test('writeTempDirs, hasOsRelease and writeExtraFiles', async () => {
  writeTempDirs(tree);
  assert.equal(statSync(join(tree.root, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(statSync(join(tree.root, 'var/tmp')).mode & 0o7777, 0o1777);
  assert.equal(hasOsRelease(tree), false);
  tree.writeFile('usr/lib/os-release', 'ID=debian\n', { mode: 0o644 });
  tree.symlink('etc/os-release', '../usr/lib/os-release');
  assert.equal(hasOsRelease(tree), true);
  await writeExtraFiles(tree, [{ path: '/etc/motd', mode: 0o600, uid: 0, gid: 0, content: 'hi' }, { path: '/opt/x', mode: 0o755, uid: 1, gid: 2, source: '/host/x' }], async (p) => Buffer.from(`from ${p}`));
  assert.equal(read('etc/motd'), 'hi');
  assert.equal(read('opt/x'), 'from /host/x');
  assert.deepEqual(tree.entry('opt/x'), { path: 'opt/x', kind: 'file', mode: 0o755, uid: 1, gid: 2 });
  await assert.rejects(writeExtraFiles(tree, [{ path: '/a', mode: 0o644, uid: 0, gid: 0, source: '/missing' }], async () => { throw new Error('ENOENT'); }), /cannot read \/missing for \/a/);
});

function pkg(name: string, fields: string, controlFiles: Record<string, string> = {}): InstalledPackage {
  const control = parseStanza(`Package: ${name}\nVersion: 1.0\nArchitecture: amd64\n${fields}Description: d\n long\n`, name);
  return {
    name,
    version: '1.0',
    arch: 'amd64',
    control,
    controlFiles: new Map(Object.entries(controlFiles).map(([k, v]) => [k, { data: Buffer.from(v), mode: 0o644 }])),
    files: ['/.', '/etc', `/etc/${name}.conf`],
  };
}

test('writeDpkgDatabase: status with Status and Conffiles, info files named like dpkg', () => {
  tree.writeFile('etc/libx.conf', 'conf\n', { mode: 0o644 });
  const libx = pkg('libx', 'Multi-Arch: same\n', { postinst: '#!/bin/sh\n', conffiles: '/etc/libx.conf\n/etc/gone.conf\n', md5sums: 'abc  usr/lib/x\n' });
  const tool = pkg('tool', '');
  assert.equal(infoName(libx), 'libx:amd64');
  assert.equal(infoName(tool), 'tool');
  writeDpkgDatabase(tree, [tool, libx], 'unpacked');
  const status = read('var/lib/dpkg/status');
  assert.equal(
    status,
    'Package: libx\nStatus: install ok unpacked\nVersion: 1.0\nArchitecture: amd64\nMulti-Arch: same\n' +
      'Conffiles:\n /etc/libx.conf b9a771b420047cfaa3543e66c78f44f6\n /etc/gone.conf newconffile\nDescription: d\n long\n' +
      '\nPackage: tool\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\nDescription: d\n long\n',
  );
  assert.equal(read('var/lib/dpkg/info/libx:amd64.list'), '/.\n/etc\n/etc/libx.conf\n');
  assert.equal(statSync(join(tree.root, 'var/lib/dpkg/info/libx:amd64.postinst')).mode & 0o777, 0o755);
  assert.equal(read('var/lib/dpkg/info/libx:amd64.md5sums'), 'abc  usr/lib/x\n');
  assert.equal(read('var/lib/dpkg/available'), '');
  for (const d of ['updates', 'triggers', 'alternatives']) assert.equal(tree.kindOf(`var/lib/dpkg/${d}`), 'dir');
});

test('writeDpkgDatabase installed state marks every package installed', () => {
  writeDpkgDatabase(tree, [pkg('libx', '', { postinst: '#!/bin/sh\n' })], 'installed');
  assert.match(read('var/lib/dpkg/status'), /^Status: install ok installed$/m);
});

test('writeStatusD: the control stanza and md5sums per package, no dpkg database', () => {
  writeStatusD(tree, [pkg('libx', 'Multi-Arch: same\n', { md5sums: 'abc  usr/lib/x\n' }), pkg('tool', '')]);
  assert.equal(read('var/lib/dpkg/status.d/libx'), 'Package: libx\nVersion: 1.0\nArchitecture: amd64\nMulti-Arch: same\nDescription: d\n long\n');
  assert.equal(read('var/lib/dpkg/status.d/libx.md5sums'), 'abc  usr/lib/x\n');
  assert.equal(tree.kindOf('var/lib/dpkg/status.d/tool.md5sums'), undefined);
  assert.equal(tree.kindOf('var/lib/dpkg/status'), undefined);
});
