/**
 * Bounded retries with exponential backoff and jitter. A transient RegistryError is retried after the
 * server's Retry-After when it sent one (and gives up at once when that is longer than `maxDelayMs`, rather than
 * hang), else after min(maxDelayMs, baseDelayMs·2^(n−1)) with "equal jitter" (half fixed, half random).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../../errors.js';
import type { ProgressSink } from '../../progress.js';
import { isTransient } from './errors.js';

export interface RetryPolicy {
  /** Total tries, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 30_000 };

export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

/**
 * Counts the failures of one logical operation against the policy. `failed(e)` rethrows `e` when it is not
 * transient or the attempts are used up; otherwise it reports a `retry` event and waits.
 */
export class RetryBudget {
  private failures = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly what: string,
    private readonly opts: { progress?: ProgressSink; signal?: AbortSignal },
  ) {}

  async failed(e: unknown): Promise<void> {
    this.failures++;
    if (!isTransient(e) || this.failures >= this.policy.attempts || this.opts.signal?.aborted) throw e;
    if (e.retryAfterMs !== undefined && e.retryAfterMs > this.policy.maxDelayMs) throw e;
    const delayMs = e.retryAfterMs ?? backoffMs(this.policy, this.failures);
    this.opts.progress?.({ kind: 'retry', what: this.what, attempt: this.failures, delayMs, reason: messageOf(e) });
    await sleep(delayMs, undefined, { signal: this.opts.signal });
  }
}

/** Runs `fn` until it succeeds or fails for good. */
export async function withRetry<T>(policy: RetryPolicy, what: string, opts: { progress?: ProgressSink; signal?: AbortSignal }, fn: () => Promise<T>): Promise<T> {
  const budget = new RetryBudget(policy, what, opts);
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      await budget.failed(e);
    }
  }
}
