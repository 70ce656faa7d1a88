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

/** A Node filesystem error (`ENOSPC`, `EACCES`, …), as Node throws them. */
export function isErrnoError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code ?? '');
}

const FS_CODES: Record<string, { code: ErrorCode; problem: string; hint: (where: string) => string }> = {
  ENOSPC: { code: 'DISK_FULL', problem: 'no space left on the device', hint: (w) => `free space on the filesystem of ${w}, or write elsewhere (--cache-dir, another target)` },
  EDQUOT: { code: 'DISK_FULL', problem: 'the disk quota is exhausted', hint: (w) => `free space in your quota on the filesystem of ${w}, or write elsewhere` },
  EACCES: { code: 'PERMISSION_DENIED', problem: 'permission denied', hint: (w) => `check the permissions of ${w} (or run as a user who may write there)` },
  EPERM: { code: 'PERMISSION_DENIED', problem: 'operation not permitted', hint: (w) => `check the permissions of ${w}; owners and device nodes need root` },
  EROFS: { code: 'PERMISSION_DENIED', problem: 'the filesystem is read-only', hint: (w) => `${w} is on a read-only mount; write elsewhere` },
  ENAMETOOLONG: { code: 'NAME_TOO_LONG', problem: 'a file name is too long for the filesystem', hint: () => 'unpack into a shorter path, or onto a filesystem that allows longer names' },
};

/** The catalogue code for a filesystem errno (DISK_FULL for ENOSPC, …). */
export function fsErrorCode(errno: string | undefined): ErrorCode {
  return (errno === undefined ? undefined : FS_CODES[errno]?.code) ?? 'FILESYSTEM_ERROR';
}

/**
 * A filesystem error as a user can act on it: what failed, where, and what to do. Errors with no
 * specific advice keep the system's code in a FILESYSTEM_ERROR.
 */
export function fsFailure(e: NodeJS.ErrnoException, what: string, where?: string): KairosImgError {
  const at = where ?? e.path ?? 'the target';
  const known = e.code === undefined ? undefined : FS_CODES[e.code];
  const short = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}…` : s);
  if (known !== undefined) {
    return new KairosImgError(known.code, `${what} failed: ${known.problem} (${short(at)})`, { hint: known.hint(short(at)), cause: e, details: { errno: e.code, path: short(at) } });
  }
  return new KairosImgError('FILESYSTEM_ERROR', `${what} failed: ${e.code ?? 'error'} ${short(e.message)}`, {
    hint: 'check the path and the filesystem; run again with --debug for details', cause: e, details: { errno: e.code, path: short(at) },
  });
}
