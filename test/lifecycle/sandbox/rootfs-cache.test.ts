import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { digestHex } from '../../../src/oci/digest.js';
import type { Image } from '../../../src/oci/image.js';
import { PRUNE_AFTER_MS, prepareRootfs, removeReadOnlyTree } from '../../../src/lifecycle/sandbox/rootfs-cache.js';
import { baseEntries, countingImage, makeToolsImage } from './tools-image.js';

describe('prepareRootfs', () => {
  let image: Image;
  let work: string;

  before(async () => {
    image = await makeToolsImage();
    work = await mkdtemp(join(tmpdir(), 'cairn-rootfs-cache-'));
  });
  after(async () => {
    removeReadOnlyTree(work);
    await rm(work, { recursive: true, force: true });
  });

  const pidNs = (): string => /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]!;
  const temps = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.tmp-'));

  it('extracts the layers in order into <cache>/<digest hex>, safely, then reuses the tree without re-extracting', async () => {
    const cache = join(work, 'reuse');
    const warnings: string[] = [];
    const counted = countingImage(image);
    let t = process.hrtime.bigint();
    const root = await prepareRootfs(counted.image, cache, { onWarning: (w) => warnings.push(w) });
    const firstMs = Number(process.hrtime.bigint() - t) / 1e6;
    assert.equal(root, join(cache, digestHex(image.digest)));
    assert.equal(counted.opened(), image.layers.length);
    // whiteouts applied, later layers on top
    assert.equal(existsSync(join(root, 'etc/old.txt')), false);
    assert.equal(readFileSync(join(root, 'etc/new.txt'), 'utf8'), 'from layer 2\n');
    // setuid stripped, device skipped with a warning, symlinks kept verbatim
    assert.equal(lstatSync(join(root, 'bin/suid-id')).mode & 0o7777, 0o755);
    assert.equal(existsSync(join(root, 'dev/null')), false);
    assert.ok(warnings.some((w) => w.includes('dev/null')), `warnings: ${warnings.join('; ')}`);
    assert.equal(readlinkSync(join(root, 'var/run')), '../run');
    assert.equal(readlinkSync(join(root, 'etc/mtab')), '/proc/self/mounts');
    // readable by its owner (the sandbox user) even where the image said 0200; the root folder is 0755
    assert.equal(lstatSync(join(root, 'etc/unreadable')).mode & 0o777, 0o600);
    assert.equal(lstatSync(root).mode & 0o777, 0o755);
    assert.equal(lstatSync(join(root, 'tmp')).mode & 0o7777, 0o1777);
    // the shared host files' mount points, which the image lacks, are there empty
    for (const f of ['etc/resolv.conf', 'etc/hosts']) {
      assert.equal(readFileSync(join(root, f), 'utf8'), '', f);
      assert.equal(lstatSync(join(root, f)).mode & 0o777, 0o644, f);
    }
    assert.deepEqual(temps(cache), []);

    t = process.hrtime.bigint();
    assert.equal(await prepareRootfs(counted.image, cache), root);
    const secondMs = Number(process.hrtime.bigint() - t) / 1e6;
    assert.equal(counted.opened(), image.layers.length, 'the second call must not open any layer');
    assert.ok(secondMs < firstMs, `reuse (${secondMs} ms) should be faster than extraction (${firstMs} ms)`);
    console.log(`# rootfs: first preparation ${firstMs.toFixed(1)} ms, reuse ${secondMs.toFixed(2)} ms`);
  });

  it('lets concurrent preparations of the same image both succeed with one tree', async () => {
    const cache = join(work, 'concurrent');
    const counted = countingImage(image);
    const [a, b, c] = await Promise.all([prepareRootfs(counted.image, cache), prepareRootfs(counted.image, cache), prepareRootfs(counted.image, cache)]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.deepEqual(readdirSync(cache).sort(), [digestHex(image.digest), `${digestHex(image.digest)}.used`]);
    assert.equal(readFileSync(join(a, 'etc/new.txt'), 'utf8'), 'from layer 2\n');
    assert.equal(counted.opened(), 3 * image.layers.length, 'each call extracted its own copy; the losers were dropped');
  });

  it('lets a preparation in another process race with this one', async () => {
    const cache = join(work, 'cross-process');
    // Both sides start from nothing: the child is another process with its own pid.
    const script = `
      import { prepareRootfs } from ${JSON.stringify(new URL('../../../src/lifecycle/sandbox/rootfs-cache.js', import.meta.url).href)};
      import { makeToolsImage } from ${JSON.stringify(new URL('./tools-image.js', import.meta.url).href)};
      const image = await makeToolsImage();
      process.stdout.write(await prepareRootfs(image, ${JSON.stringify(cache)}));
    `;
    const [child, mine] = await Promise.all([
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
      prepareRootfs(image, cache),
    ]);
    assert.equal(child.stdout, mine);
    assert.deepEqual(readdirSync(cache).sort(), [digestHex(image.digest), `${digestHex(image.digest)}.used`]);
  });

  it('removes temp folders left by a crash, and only those', async () => {
    const cache = join(work, 'stale');
    mkdirSync(cache, { recursive: true });
    const hex = digestHex(image.digest);
    const ns = pidNs();
    // left by an earlier process that had this pid (no call of ours owns it), with a folder a non-root user could not empty
    const crashed = join(cache, `.tmp-${hex}-${ns}-${process.pid}-deadbeef`);
    mkdirSync(join(crashed, 'usr/share'), { recursive: true });
    writeFileSync(join(crashed, 'usr/share/f'), 'partial');
    chmodSync(join(crashed, 'usr/share'), 0o555);
    chmodSync(join(crashed, 'usr'), 0o555);
    // a process that has exited
    const dead = spawnSync('/bin/true').pid!;
    const deadTemp = join(cache, `.tmp-${hex}-${ns}-${dead}-0000aaaa`);
    mkdirSync(deadTemp);
    // a live process (our parent) and another PID namespace: their owners may still be working
    const live = join(cache, `.tmp-${hex}-${ns}-${process.ppid}-0000bbbb`);
    const foreign = join(cache, `.tmp-${hex}-1-${dead}-0000cccc`);
    mkdirSync(live);
    mkdirSync(foreign);

    const root = await prepareRootfs(image, cache);
    assert.ok(existsSync(join(root, 'bin/sh')));
    assert.equal(existsSync(crashed), false);
    assert.equal(existsSync(deadTemp), false);
    assert.ok(existsSync(live));
    assert.ok(existsSync(foreign));
  });

  it('removes the trees no preparation handed out for 7 days when it extracts a new one, and only those', async () => {
    const cache = join(work, 'prune');
    const day = 24 * 3_600_000;
    const t0 = Date.now();
    const at = (ms: number) => () => new Date(ms);
    const variant = (text: string) => makeToolsImage([baseEntries(), [{ path: 'etc/variant.txt', type: 'file', content: text }]]);
    const [old, recent, fresh] = await Promise.all([variant('old'), variant('recent'), variant('fresh')]);
    const mtimeOf = (p: string) => Math.round(lstatSync(p).mtimeMs);

    const oldRoot = await prepareRootfs(old, cache, { now: at(t0) });
    assert.equal(mtimeOf(`${oldRoot}.used`), t0, 'the tree is marked used when extracted');
    // Handed out again within the hour: the mark is not rewritten; later it is.
    await prepareRootfs(old, cache, { now: at(t0 + 1_800_000) });
    assert.equal(mtimeOf(`${oldRoot}.used`), t0);
    const recentRoot = await prepareRootfs(recent, cache, { now: at(t0 + day) });
    await prepareRootfs(recent, cache, { now: at(t0 + 5 * day) });
    assert.equal(mtimeOf(`${recentRoot}.used`), t0 + 5 * day, 'a reuse after more than an hour refreshes the mark');
    // A tree extracted by a cairn that wrote no marks counts from its folder's ctime (now, in real time).
    const legacy = join(cache, 'a'.repeat(64));
    mkdirSync(join(legacy, 'etc'), { recursive: true });
    chmodSync(join(legacy, 'etc'), 0o555); // a folder a non-root user could not empty as it is
    // Marks without a tree: an old one is dropped, a young one (an extraction about to rename) stays.
    const orphanOld = join(cache, `${'b'.repeat(64)}.used`);
    const orphanYoung = join(cache, `${'c'.repeat(64)}.used`);
    writeFileSync(orphanOld, '');
    writeFileSync(orphanYoung, '');
    utimesSync(orphanOld, new Date(t0 - 30 * day), new Date(t0 - 30 * day));
    utimesSync(orphanYoung, new Date(t0 + 8 * day), new Date(t0 + 8 * day));
    const legacyCtime = lstatSync(legacy).ctimeMs;

    const freshRoot = await prepareRootfs(fresh, cache, { now: at(Math.max(t0 + PRUNE_AFTER_MS + day, legacyCtime + PRUNE_AFTER_MS + 1)) });
    const hex = (root: string) => root.slice(cache.length + 1);
    assert.deepEqual(readdirSync(cache).sort(), [hex(freshRoot), `${hex(freshRoot)}.used`, hex(recentRoot), `${hex(recentRoot)}.used`, `${'c'.repeat(64)}.used`].sort());
    assert.equal(readFileSync(join(recentRoot, 'etc/variant.txt'), 'utf8'), 'recent');
    assert.equal(existsSync(oldRoot), false);
    assert.equal(existsSync(legacy), false);
  });

  it('prunes nothing that was handed out within 7 days, and no tree on reuse', async () => {
    const cache = join(work, 'no-prune');
    const day = 24 * 3_600_000;
    const t0 = Date.now();
    const [a, b] = await Promise.all([makeToolsImage([baseEntries(), [{ path: 'etc/v', type: 'file', content: 'a' }]]), makeToolsImage([baseEntries(), [{ path: 'etc/v', type: 'file', content: 'b' }]])]);
    const rootA = await prepareRootfs(a, cache, { now: () => new Date(t0) });
    // Reusing a tree prunes nothing, however old the others are.
    const rootB = await prepareRootfs(b, cache, { now: () => new Date(t0 + day) });
    assert.ok(await prepareRootfs(b, cache, { now: () => new Date(t0 + 30 * day) }));
    assert.ok(existsSync(rootA));
    // A new extraction at 6 days 23 hours after A's last use keeps A.
    removeReadOnlyTree(rootB);
    await prepareRootfs(b, cache, { now: () => new Date(t0 + PRUNE_AFTER_MS - 3_600_000) });
    assert.ok(existsSync(join(rootA, 'etc/v')));
    assert.ok(existsSync(join(rootB, 'etc/v')));
  });

  it('uses a kept tree as it is when its use cannot be recorded, with a warning', async () => {
    const cache = join(work, 'unmarkable');
    const counted = countingImage(image);
    const root = await prepareRootfs(counted.image, cache);
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(`${root}.used`, old, old);
    mkdirSync(join(cache, '.lock')); // the lock cannot be taken (as root, permissions would not stop it)
    const warnings: string[] = [];
    assert.equal(await prepareRootfs(counted.image, cache, { onWarning: (w) => warnings.push(w) }), root);
    assert.equal(counted.opened(), image.layers.length, 'not extracted again');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot mark .* used, using it as it is/);
  });

  it('leaves nothing behind when aborted', async () => {
    const cache = join(work, 'aborted');
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await assert.rejects(prepareRootfs(image, cache, { signal: ac.signal }), /stop/);
    assert.deepEqual(readdirSync(cache), []);
  });
});
