/**
 * Kept layer trees of a volume cache: besides each cached layer's tar, the folder the build left, so the
 * next restore is a rename instead of an extraction, and the next export knows the layer's diffID from a
 * stat fingerprint (`tree-fingerprint.ts`) instead of a tar pass.
 *
 *   <dir>/trees/<diffID>/fingerprint     the tree's fingerprint when it was kept, and how its tar was written
 *   <dir>/trees/<diffID>/root/           the layer folder (what restore puts at <layers>/<bp>/<name>)
 *   <dir>/trees/staging.<pid>.<hex>/     a tree being kept, renamed to <diffID> when complete
 *
 * A tree is an accelerator, never the only copy: the tar in the committed generation stays the cache's
 * record. Taking a tree moves it out (one build owns it; a concurrent build of the same cache extracts the
 * tar instead); a build that fails loses it, and the next one extracts. Every step is a rename, so a crash
 * leaves whole trees or staging folders, which recovery removes. A tree whose fingerprint no longer matches
 * (changed in place while kept) is dropped, never used. Kept trees carry no setuid/setgid bits.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../../oci/digest.js';
import type { TreeRecord } from './cache.js';
import { processAlive } from '../../oci/process-liveness.js';
import { removeTree } from '../../oci/remove-tree.js';
import { treeFingerprint } from './tree-fingerprint.js';
import { isErrno } from './volume-files.js';

const STAGING_RE = /^staging\.(\d+)\.[0-9a-f]+$/;
const TREE_RE = /^sha256:[0-9a-f]{64}$/;



/**
 * Moves the kept tree of `diffID` to `dest` (which must not exist) when there is one and it is intact.
 * Undefined when there is none (or another build took it) or it was changed while kept (then it is removed).
 */
export async function takeTree(treesDir: string, diffID: Digest, dest: string, warn: (m: string) => void): Promise<TreeRecord | undefined> {
  const claim = `${dest}.taking-${randomBytes(6).toString('hex')}`;
  try {
    await rename(join(treesDir, diffID), claim);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'EXDEV')) return undefined;
    throw e;
  }
  try {
    const [fingerprint = '', writer = ''] = (await readFile(join(claim, 'fingerprint'), 'utf8')).split('\n');
    await rename(join(claim, 'root'), dest);
    if (treeFingerprint(dest) === fingerprint) return { fingerprint, writer };
    warn(`the kept tree of cached layer ${diffID} was changed while kept; extracting the layer instead`);
    await removeTree(dest);
    return undefined;
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    return undefined;
  } finally {
    await removeTree(claim);
  }
}

/**
 * Moves `dir`, whose layer tar (written as `record.writer` says) has `diffID`, into the kept trees. Does
 * nothing when a tree for that diffID is already kept (`dir` is left for its owner to remove) or the cache is
 * on another file system.
 */
export async function keepTree(treesDir: string, diffID: Digest, dir: string, record: TreeRecord, setid = true): Promise<void> {
  // No setuid/setgid file outlives the build on the host. Layer tars never carry these bits (the writer
  // normalises modes), so the diffID still holds; the fingerprint is taken again. `setid` false: the caller's
  // fingerprint walk saw none, no need to look.
  if (setid && stripSetid(dir)) record = { ...record, fingerprint: treeFingerprint(dir) };
  await mkdir(treesDir, { recursive: true });
  const staging = join(treesDir, `staging.${process.pid}.${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  try {
    await writeFile(join(staging, 'fingerprint'), `${record.fingerprint}\n${record.writer.replace(/\n/g, ' ')}\n`);
    try {
      await rename(dir, join(staging, 'root'));
    } catch (e) {
      if (isErrno(e, 'EXDEV')) return;
      throw e;
    }
    await rename(staging, join(treesDir, diffID)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    });
  } finally {
    await removeTree(staging);
  }
}

/** Clears setuid/setgid bits throughout a tree (symlinks untouched); true if any was set. */
function stripSetid(root: string): boolean {
  let stripped = false;
  const visit = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o6000) {
      chmodSync(p, st.mode & 0o1777);
      stripped = true;
    }
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
  };
  visit(root);
  return stripped;
}

/**
 * Removes kept trees whose diffID the committed generation no longer refers to, and staging folders of
 * processes that are gone. Call it holding the cache's lock.
 */
export async function pruneTrees(treesDir: string, referenced: ReadonlySet<string>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(treesDir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
    throw e;
  }
  for (const name of names) {
    const staging = STAGING_RE.exec(name);
    const stale = staging ? !processAlive(Number(staging[1])) : !TREE_RE.test(name) || !referenced.has(name);
    if (stale) await removeTree(join(treesDir, name));
  }
}
