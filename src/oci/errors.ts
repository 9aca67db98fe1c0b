/**
 * Typed errors. Every failure cairn reports carries a stable `code`, a one-line message saying what failed,
 * the underlying `cause` when there is one, and a `hint` saying what the user can do about it.
 * The CLI prints `error: <message>` and `hint: <hint>` and maps the code to an exit status; it shows the
 * cause chain and stack only with --verbose.
 */
export type ErrorCode =
  // references and transports
  | 'INVALID_REFERENCE'
  | 'UNKNOWN_TRANSPORT'
  // content
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'INVALID_DIGEST'
  | 'INVALID_MANIFEST'
  | 'INVALID_CONFIG'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NO_MATCHING_PLATFORM'
  // stores
  | 'NOT_FOUND'
  | 'BLOB_NOT_FOUND'
  | 'MANIFEST_NOT_FOUND'
  | 'STORE_CORRUPT'
  | 'STORE_LOCKED'
  | 'IO'
  // registries
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNREACHABLE'
  | 'REGISTRY_ERROR'
  | 'TOO_MANY_REQUESTS'
  | 'TLS'
  | 'CREDENTIAL_HELPER'
  // daemon
  | 'DAEMON_UNAVAILABLE'
  | 'DAEMON_ERROR'
  // archives
  | 'UNSAFE_ARCHIVE_ENTRY'
  | 'INVALID_ARCHIVE'
  // generic
  | 'INVALID_ARGUMENT'
  | 'UNSUPPORTED'
  | 'INTERNAL'
  // lifecycle (src/lifecycle/): CNB files, API versions, phases
  | 'INVALID_LIFECYCLE_FILE'
  | 'INCOMPATIBLE_PLATFORM_API'
  | 'INCOMPATIBLE_BUILDPACK_API'
  | 'DETECT_FAILED'
  | 'BUILDPACK_FAILED'
  | 'LIFECYCLE_FAILED';

export interface CairnErrorOptions {
  cause?: unknown;
  hint?: string;
}

export class CairnError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: CairnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CairnError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isCairnError(e: unknown, code?: ErrorCode): e is CairnError {
  return e instanceof CairnError && (code === undefined || e.code === code);
}

/** The message of any thrown value, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
