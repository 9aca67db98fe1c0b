/**
 * Progress events emitted by stores and copy. Sinks (terminal bars, plain lines, JSON) live in the CLI;
 * library code only calls the optional callback it was given.
 */
import type { Digest } from './digest.js';

export type ProgressEvent =
  | { kind: 'blob-start'; digest: Digest; total: number; action: 'upload' | 'download' | 'mount' | 'write' }
  | { kind: 'blob-progress'; digest: Digest; done: number; total: number }
  | { kind: 'blob-done'; digest: Digest; total: number; action: 'upload' | 'download' | 'mount' | 'write' | 'skip' }
  | { kind: 'retry'; what: string; attempt: number; delayMs: number; reason: string }
  | { kind: 'manifest'; digest: Digest; tag?: string };

export type ProgressSink = (event: ProgressEvent) => void;
