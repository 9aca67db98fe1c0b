/**
 * An inter-process lock over a folder: a lock file created with O_EXCL holding the owner's pid, host and
 * the time it was taken. Every read-modify-write of a layout's index.json happens while holding it, so
 * concurrent cairn processes never lose each other's updates.
 *
 * A lock whose owner is gone (same host, pid no longer alive) is stale and is broken. Breaking is itself
 * serialised by a second O_EXCL file (`<lock>.break`), so two waiters that both find the same stale lock
 * cannot remove a fresh lock taken in between. A lock file that cannot be parsed (its owner died between
 * creating and writing it) is stale once older than UNREADABLE_STALE_MS.
 */
import { hostname } from 'node:os';
import { link, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TEMP_PREFIX } from '../../atomic-file.js';
import { CairnError, messageOf } from '../../errors.js';
import { processAlive } from '../../process-liveness.js';

export interface LockOptions {
  /** How long to wait for another holder before failing with STORE_LOCKED (default 60 s). */
  timeoutMs?: number;
  /** The clock (injected: library code reads no clock itself). */
  now: () => Date;
  /** What is locked, for messages, e.g. `oci:/tmp/x`. */
  what: string;
}

interface LockRecord {
  pid: number;
  host: string;
  time: string;
}

const UNREADABLE_STALE_MS = 10_000;
const MAX_DELAY_MS = 100;

/** Takes the lock at `path`, runs `fn`, and releases it (also when `fn` throws). */
export async function withFileLock<T>(path: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  await acquire(path, opts);
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

/** The private record files of dead processes (killed between writing and linking their record) are removed. */
async function removeDeadRecords(path: string): Promise<void> {
  const prefix = `${TEMP_PREFIX}${basename(path)}-`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}

async function acquire(path: string, opts: LockOptions): Promise<void> {
  await removeDeadRecords(path);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const start = opts.now().getTime();
  let delay = 2;
  for (;;) {
    const record: LockRecord = { pid: process.pid, host: hostname(), time: opts.now().toISOString() };
    try {
      // The record is written to a private file first and then linked into place: link() fails with EEXIST
      // like O_EXCL, and the lock file, once it exists, is always complete (a kill cannot leave it empty).
      const tmp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${process.pid}-${Math.random().toString(16).slice(2)}`);
      await writeFile(tmp, JSON.stringify(record) + '\n', { mode: 0o644 });
      try {
        await link(tmp, path);
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CairnError('IO', `cannot create lock ${path}: ${messageOf(e)}`, { cause: e, hint: 'check that the folder exists and is writable' });
      }
    }
    const holder = await readHolder(path);
    if (holder !== undefined && (await isStale(path, holder, opts))) {
      await breakStale(path, holder.raw, opts);
      continue;
    }
    if (opts.now().getTime() - start >= timeoutMs) {
      const who = holder?.record ? `pid ${holder.record.pid} on ${holder.record.host} since ${holder.record.time}` : 'another process';
      throw new CairnError('STORE_LOCKED', `${opts.what} is locked by ${who} (waited ${Math.round(timeoutMs / 1000)} s)`, {
        hint: `wait for the other cairn process to finish; if none is running, remove ${path}`,
      });
    }
    await sleep(delay);
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }
}

interface Holder {
  raw: string;
  record: LockRecord | undefined;
  mtimeMs: number;
}

/** The current lock file, or undefined when it vanished meanwhile. */
async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const [raw, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { raw, record: parseRecord(raw), mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CairnError('IO', `cannot read lock ${path}: ${messageOf(e)}`, { cause: e });
  }
}

function parseRecord(raw: string): LockRecord | undefined {
  try {
    const r = JSON.parse(raw) as Partial<LockRecord>;
    if (typeof r.pid === 'number' && typeof r.host === 'string' && typeof r.time === 'string') return r as LockRecord;
  } catch {
    // a lock file being written, or left half-written by a crash
  }
  return undefined;
}

async function isStale(path: string, holder: Holder, opts: LockOptions): Promise<boolean> {
  if (holder.record === undefined) return opts.now().getTime() - holder.mtimeMs > UNREADABLE_STALE_MS;
  // A lock held from another host cannot be checked; it is broken only by hand (see the STORE_LOCKED hint).
  if (holder.record.host !== hostname()) return false;
  return !processAlive(holder.record.pid);
}

/** Removes the lock file if it still holds `staleRaw`, under the `.break` guard. */
async function breakStale(path: string, staleRaw: string, opts: LockOptions): Promise<void> {
  const guard = `${path}.break`;
  try {
    await writeFile(guard, JSON.stringify({ pid: process.pid, host: hostname(), time: opts.now().toISOString() }), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CairnError('IO', `cannot create ${guard}: ${messageOf(e)}`, { cause: e });
    // Someone else is breaking it; if that breaker died, clear its guard so the next round can proceed.
    const other = await readHolder(guard);
    if (other !== undefined && (await isStale(guard, other, opts))) await unlink(guard).catch(() => undefined);
    await sleep(5);
    return;
  }
  try {
    const current = await readHolder(path);
    if (current !== undefined && current.raw === staleRaw) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
