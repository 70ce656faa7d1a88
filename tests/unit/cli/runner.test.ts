import { describe, expect, it, vi } from 'vitest';
import { throttle, transferText } from '../../../src/cli/progress/runner.js';

describe('throttle', () => {
  it('waits a full interval before the first call, then passes the latest value at most once per interval', () => {
    vi.useFakeTimers();
    try {
      const seen: number[] = [];
      const t = throttle(1000, (n: number) => { seen.push(n); });
      t(1);
      vi.advanceTimersByTime(500);
      t(2);
      expect(seen).toEqual([]);
      vi.advanceTimersByTime(600);
      t(3);
      t(4);
      expect(seen).toEqual([3]);
      t.flush();
      expect(seen).toEqual([3, 4]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('transferText', () => {
  it('bytes, total and rate', () => {
    expect(transferText(10 * 1048576, 40 * 1048576, 0, 2000)).toBe('10.0 MiB / 40.0 MiB · 5.0 MiB/s');
  });
});
