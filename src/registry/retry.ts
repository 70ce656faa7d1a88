/**
 * Retries for transient registry failures: 429, 5xx except 501, and dropped connections.
 * Exponential backoff with full jitter (delay = random(0, min(max, base·2^n))), honouring
 * `Retry-After` (seconds or an HTTP date, capped), bounded by attempts and by total time.
 * The pure parts (parseRetryAfter, backoffDelay, isTransientNetworkError) are unit tested;
 * withRetry is the only clock-and-sleep edge.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxElapsedMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxElapsedMs: 120_000 };

/** Cap on a server-requested wait: a registry asking for an hour should fail, not hang. */
export const RETRY_AFTER_CAP_MS = 60_000;

const TRANSIENT = Symbol('kairos-img.transient');
interface TransientMark { retryAfterMs: number | undefined }

/** Marks an error as worth retrying (optionally after a server-given delay). */
export function markTransient<E extends Error>(err: E, retryAfterMs?: number): E {
  (err as unknown as Record<symbol, TransientMark>)[TRANSIENT] = { retryAfterMs };
  return err;
}

export function transientInfo(err: unknown): TransientMark | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return (err as Record<symbol, TransientMark | undefined>)[TRANSIENT];
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Dropped or reset connections; not refused connections or DNS failures (those are config errors). */
export function isTransientNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return /socket hang up|premature close|aborted by the server|other side closed/i.test(err.message);
}

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT` → ms (≥ 0, capped). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now(), capMs: number = RETRY_AFTER_CAP_MS): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, capMs);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), capMs);
}

/** Full-jitter backoff for retry number `attempt` (0-based). `random` in [0, 1). */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

export interface RetryEvent { attempt: number; delayMs: number; reason: string }

export interface WithRetryOptions {
  policy: RetryPolicy;
  signal?: AbortSignal | undefined;
  onRetry?: ((e: RetryEvent) => void) | undefined;
  /** Extra classification on top of transient marks / network errors. */
  isRetryable?: ((err: unknown) => boolean) | undefined;
}

/** Runs `fn` until it succeeds, a non-transient error occurs, or the budget is spent. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: WithRetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const mark = transientInfo(err);
      const retryable = mark !== undefined || isTransientNetworkError(err) || (opts.isRetryable?.(err) ?? false);
      if (!retryable || attempt + 1 >= opts.policy.attempts) throw err;
      const delayMs = Math.max(mark?.retryAfterMs ?? 0, backoffDelay(attempt, opts.policy));
      if (Date.now() - started + delayMs > opts.policy.maxElapsedMs) throw err;
      opts.onRetry?.({ attempt: attempt + 1, delayMs, reason: err instanceof Error ? err.message : String(err) });
      await sleep(delayMs, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}
