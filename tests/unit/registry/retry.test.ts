import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, isTransientNetworkError, markTransient, parseRetryAfter, withRetry } from '../../../src/registry/retry.js';

describe('retry policy', () => {
  it('parses Retry-After seconds and HTTP dates, capped and never negative', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
  it('backs off exponentially with full jitter, within the max', () => {
    const p = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, p, () => 0.999)).toBe(99);
    expect(backoffDelay(2, p, () => 0.999)).toBe(399);
    expect(backoffDelay(10, p, () => 0.999)).toBe(999);
    expect(backoffDelay(3, p, () => 0)).toBe(0);
    for (let i = 0; i < 200; i++) expect(backoffDelay(40, p)).toBeLessThan(1000);
  });
  it('classifies statuses and network errors', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 404, 501].some(isRetryableStatus)).toBe(false);
    expect(isTransientNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientNetworkError(new Error('socket hang up'))).toBe(true);
    expect(isTransientNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
  });
  it('retries transient errors within the attempt budget and not others', async () => {
    let calls = 0;
    const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 10_000 };
    await expect(withRetry(async () => { calls++; throw markTransient(new Error('503')); }, { policy })).rejects.toThrow('503');
    expect(calls).toBe(3);
    calls = 0;
    await expect(withRetry(async () => { calls++; throw new Error('404'); }, { policy })).rejects.toThrow('404');
    expect(calls).toBe(1);
    calls = 0;
    expect(await withRetry(async () => { if (++calls < 2) throw markTransient(new Error('x')); return 'ok'; }, { policy })).toBe('ok');
  });
  it('gives up when the server-requested wait exceeds the time budget', async () => {
    let calls = 0;
    const policy = { attempts: 5, baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 500 };
    await expect(withRetry(async () => { calls++; throw markTransient(new Error('429'), 5000); }, { policy })).rejects.toThrow('429');
    expect(calls).toBe(1);
  });
});
