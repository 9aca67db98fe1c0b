import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStackConfig, suiteSources } from '../../src/stack/config.js';

const opts = { what: 'stack.toml', baseDir: '/stacks/x' };
const parse = (text: string) => parseStackConfig(text, opts);

/** Asserts INVALID_ARGUMENT whose message contains `part`. */
function rejects(text: string, part: string | RegExp): void {
  assert.throws(
    () => parse(text),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'INVALID_ARGUMENT');
      if (typeof part === 'string') assert.ok(e.message.includes(part), `"${e.message}" should contain "${part}"`);
      else assert.match(e.message, part);
      return true;
    },
  );
}

test('an empty stack.toml gets the documented defaults', () => {
  const c = parse('');
  assert.equal(c.distro, 'debian');
  assert.equal(c.suite, 'bookworm');
  assert.equal(c.arch, 'amd64');
  assert.equal(c.id, 'io.buildpacks.stacks.bookworm');
  assert.deepEqual(c.components, ['main']);
  assert.equal(c.updates, true);
  assert.equal(c.security, true);
  assert.equal(c.timezone, 'Etc/UTC');
  assert.equal(c.checkValidUntil, false);
  assert.deepEqual(c.mirrors, { debian: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' });
  assert.deepEqual(c.user, { uid: 1000, gid: 1000, name: 'cnb', group: 'cnb', home: '/home/cnb', shell: '/bin/sh' });
  assert.deepEqual(c.build, { packages: [], exclude: [], essential: false, labels: {}, files: [] });
  assert.deepEqual(suiteSources(c), [
    { suite: 'bookworm', mirror: 'http://deb.debian.org/debian' },
    { suite: 'bookworm-updates', mirror: 'http://deb.debian.org/debian' },
    { suite: 'bookworm-security', mirror: 'http://deb.debian.org/debian-security' },
  ]);
});

test('a full stack.toml is read, with files, labels and mirrors', () => {
  const c = parse(`
id = "my.stack"
suite = "trixie"
arch = "arm64"
components = ["main", "contrib"]
updates = false
timezone = "Europe/Paris"
check-valid-until = true
[mirrors]
debian = "http://mirror.local/debian/"
[user]
uid = 2000
gid = 3000
name = "app"
group = "apps"
[labels]
"org.opencontainers.image.source" = "https://example.org"
[build]
packages = ["g++", "libstdc++6", "python3.11"]
essential = true
[build.labels]
"x" = "y"
[[run.files]]
path = "/etc/motd"
content = "hi"
mode = 0o600
[[run.files]]
path = "/usr/local/bin/tool"
source = "files/tool"
mode = "0755"
uid = 0
gid = 2
`);
  assert.equal(c.suite, 'trixie');
  assert.equal(c.arch, 'arm64');
  assert.equal(c.mirrors.debian, 'http://mirror.local/debian');
  assert.deepEqual(c.user, { uid: 2000, gid: 3000, name: 'app', group: 'apps', home: '/home/app', shell: '/bin/sh' });
  assert.deepEqual(c.labels, { 'org.opencontainers.image.source': 'https://example.org' });
  assert.deepEqual(c.build.packages, ['g++', 'libstdc++6', 'python3.11']);
  assert.equal(c.build.essential, true);
  assert.deepEqual(c.run.files, [
    { path: '/etc/motd', mode: 0o600, uid: 0, gid: 0, content: 'hi' },
    { path: '/usr/local/bin/tool', mode: 0o755, uid: 0, gid: 2, source: '/stacks/x/files/tool' },
  ]);
  assert.deepEqual(suiteSources(c).map((s) => s.suite), ['trixie', 'trixie-security']);
});

test('unknown keys are named, at every level', () => {
  rejects('sute = "bookworm"', 'unknown key "sute"');
  rejects('[build]\npakages = []', 'unknown key "build.pakages"');
  rejects('[user]\nhome_dir = "/x"', 'unknown key "user.home_dir"');
  rejects('[[run.files]]\npath = "/a"\ncontent = ""\nowner = "root"', 'unknown key "run.files[0].owner"');
  rejects('[mirrors]\nubuntu = "http://x"', 'unknown key "mirrors.ubuntu"');
});

test('bad values are named with what is expected', () => {
  rejects('suite = "buster"', 'unknown suite "buster"');
  rejects('arch = "i386"', 'unsupported arch "i386"');
  rejects('distro = "alpine"', 'distro "alpine" is not supported');
  rejects('components = ["universe"]', 'unknown component "universe"');
  rejects('[build]\npackages = ["Bash"]', 'build.packages: "Bash" is not a valid Debian package name');
  rejects('[run]\npackages = ["libc6=2.36"]', '"libc6=2.36" is not a valid Debian package name');
  rejects('[run]\npackages = ["a1", "a1"]', 'run.packages lists "a1" twice');
  rejects('[run]\nexclude = ["Perl"]', 'run.exclude: "Perl" is not a valid Debian package name');
  rejects('[run]\npackages = ["a1"]\nexclude = ["a1"]', 'run: "a1" is both in packages and in exclude');
  rejects('[run]\npackages = "bash"', 'run.packages must be an array of strings, not string');
  rejects('[user]\nuid = 0', 'user.uid must be an integer from 1');
  rejects('[user]\nname = "root"', 'cannot be named root');
  rejects('[user]\nhome = "home/cnb"', 'user.home "home/cnb" must be an absolute path');
  rejects('[mirrors]\ndebian = "ftp://x"', 'mirrors.debian "ftp://x" must be an http or https URL');
  rejects('timezone = "../etc"', 'timezone "../etc" is not a zone name');
  rejects('updates = "yes"', 'updates must be true or false, not string');
  rejects('[[run.files]]\npath = "/a"', 'run.files[0] needs exactly one of content or source');
  rejects('[[run.files]]\npath = "/a"\ncontent = "x"\nsource = "y"', 'needs exactly one of content or source');
  rejects('[[run.files]]\ncontent = "x"', 'run.files[0].path is missing');
  rejects('[[run.files]]\npath = "/a/../etc/shadow"\ncontent = "x"', 'must be an absolute path without ".."');
  rejects('[[run.files]]\npath = "/a"\ncontent = "x"\nmode = 99999', 'run.files[0].mode must be an octal mode');
  rejects('[[run.files]]\npath = "/a"\ncontent = "x"\nmode = "rwx"', 'run.files[0].mode must be an octal mode');
  rejects('[[run.files]]\npath = "/a"\ncontent = "x"\n[[run.files]]\npath = "/a"\ncontent = "y"', 'run.files gives /a twice');
  rejects('[labels]\nx = 1', 'labels."x" must be a string');
});

test('TOML syntax errors name the file', () => {
  rejects('suite = ', /^stack.toml: is not valid TOML/);
});

test('extra files cannot replace what cairn generates', () => {
  rejects('[[run.files]]\npath = "/etc/passwd"\ncontent = "x"', 'run.files[0].path /etc/passwd is generated by cairn');
  rejects('[[build.files]]\npath = "/etc/ssl/certs/ca-certificates.crt"\ncontent = "x"', 'is generated by cairn');
  rejects('[[build.files]]\npath = "/var/lib/dpkg/status"\ncontent = "x"', 'is generated by cairn');
  assert.equal(parse('[[run.files]]\npath = "/usr/local/share/ca-certificates/corp.crt"\ncontent = "x"').run.files.length, 1);
});
