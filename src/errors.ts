/**
 * One error base for the whole tool: a code from the catalogue (src/error-codes.ts, which also
 * decides the exit code), a user-facing message, and a hint (what to do about it). Modules throw
 * these; only `cli/exit.ts` turns them into process exit codes.
 */

import { ERROR_CODES, kindOf, type ErrorCode, type ErrorKind, type UsageCode } from './error-codes.js';
import { redact } from './redact.js';

export { redact } from './redact.js';
export { ERROR_CODES } from './error-codes.js';
export type { ErrorCode, ErrorKind, UsageCode } from './error-codes.js';

export const ExitCode = {
  ok: 0,
  operational: 1,
  usage: 2,
  verification: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface KairosImgErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** Structured facts for --json output (never secrets). */
  details?: Record<string, unknown>;
}

export class KairosImgError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: KairosImgErrorOptions = {}) {
    super(redact(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KairosImgError';
    this.code = code;
    this.hint = opts.hint === undefined ? undefined : redact(opts.hint);
    this.kind = kindOf(code);
    this.details = opts.details;
  }
}

export function usageError(code: UsageCode, message: string, hint?: string): KairosImgError {
  return new KairosImgError(code, message, hint === undefined ? {} : { hint });
}

/** True when `code` is in the catalogue (for codes that arrive as data, e.g. a registry's). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

export function isKairosImgError(e: unknown): e is KairosImgError {
  return e instanceof KairosImgError;
}

export function exitCodeOf(e: unknown): ExitCode {
  if (isAbortError(e)) return ExitCode.interrupted;
  if (!isKairosImgError(e)) return ExitCode.operational;
  return ExitCode[e.kind];
}

export function isAbortError(e: unknown): boolean {
  if (isKairosImgError(e)) return e.kind === 'interrupted';
  return e instanceof Error && (e.name === 'AbortError' || (e as { code?: unknown }).code === 'ABORT_ERR');
}

export function interrupted(): KairosImgError {
  return new KairosImgError('INTERRUPTED', 'interrupted');
}
