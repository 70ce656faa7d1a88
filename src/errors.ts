/**
 * One error base for the whole tool: a stable machine-readable code, a user-facing message,
 * an optional hint (what to do about it) and the exit code the CLI maps it to.
 * Modules throw these; only `cli/exit.ts` turns them into process exit codes.
 */

import { redact } from './redact.js';

export { redact } from './redact.js';

export const ExitCode = {
  ok: 0,
  operational: 1,
  usage: 2,
  verification: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorKind = 'operational' | 'usage' | 'verification' | 'interrupted';

export interface KairosImgErrorOptions {
  hint?: string;
  kind?: ErrorKind;
  cause?: unknown;
  /** Structured facts for --json output (never secrets). */
  details?: Record<string, unknown>;
}

export class KairosImgError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, opts: KairosImgErrorOptions = {}) {
    super(redact(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KairosImgError';
    this.code = code;
    this.hint = opts.hint === undefined ? undefined : redact(opts.hint);
    this.kind = opts.kind ?? 'operational';
    this.details = opts.details;
  }
}

export function usageError(code: string, message: string, hint?: string): KairosImgError {
  return new KairosImgError(code, message, { kind: 'usage', ...(hint === undefined ? {} : { hint }) });
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
  return new KairosImgError('INTERRUPTED', 'interrupted', { kind: 'interrupted' });
}
