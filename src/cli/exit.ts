/** The one place where failures become what a user sees on stderr and the process exit code. */
import { CommanderError } from 'commander';
import { ExitCode, exitCodeOf, fsFailure, isAbortError, isErrnoError, isKairosImgError, redact } from '../errors.js';
import { redactDeep } from '../redact.js';
import type { Style } from './render.js';

export interface FailureOutput {
  code: number;
  /** Lines for stderr. */
  text: string;
  /** JSON document for stdout under --json. */
  json?: Record<string, unknown>;
}

export function describeFailure(e: unknown, opts: { debug: boolean; style: Style }): FailureOutput {
  if (e instanceof CommanderError) {
    // commander already printed its message; help and --version are not failures.
    const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
    return { code: ok ? ExitCode.ok : ExitCode.usage, text: '' };
  }
  const code = exitCodeOf(e);
  if (isAbortError(e)) {
    return { code, text: 'kairos-img: interrupted; nothing was left half-written', json: { error: { code: 'INTERRUPTED', message: 'interrupted' } } };
  }
  if (isKairosImgError(e)) {
    const lines = [`${opts.style.bad('error:')} ${e.message}`];
    if (e.hint !== undefined) lines.push(`${opts.style.dim('hint:')} ${e.hint}`);
    if (opts.debug && e.stack !== undefined) lines.push(redact(e.stack));
    if (opts.debug && e.cause !== undefined) lines.push(`cause: ${redact(String(e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : e.cause))}`);
    const json: Record<string, unknown> = redactDeep({ error: { code: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }), ...(e.details === undefined ? {} : { details: e.details }) } });
    return { code, text: lines.join('\n'), json };
  }
  // A raw filesystem error that reached the top still gets a message and a hint of its own.
  if (isErrnoError(e) && e.syscall !== undefined) return describeFailure(fsFailure(e, `${e.syscall}`), opts);
  const message = e instanceof Error ? e.message : String(e);
  const lines = [`${opts.style.bad('error:')} ${redact(message)}`];
  if (opts.debug && e instanceof Error && e.stack !== undefined) lines.push(redact(e.stack));
  else lines.push(`${opts.style.dim('hint:')} this is unexpected; run again with --debug for details and report it`);
  return { code: code === ExitCode.ok ? ExitCode.operational : code, text: lines.join('\n'), json: { error: { code: 'INTERNAL', message: redact(message) } } };
}
