/**
 * How progress is shown: spinners on a TTY, plain lines for CI and logs, one line per event with
 * --verbose, nothing with --quiet — always on stderr, so stdout carries only the command's data.
 * Shared text helpers for progress lines live here too.
 */
import type * as Listr2 from 'listr2';

export type ProgressMode = 'tty' | 'plain' | 'verbose' | 'silent';

function renderer(mode: ProgressMode): 'default' | 'simple' | 'verbose' | 'silent' {
  switch (mode) {
    case 'tty': return 'default';
    case 'plain': return 'simple';
    case 'verbose': return 'verbose';
    case 'silent': return 'silent';
  }
}

/** listr2 options for a mode: both of listr2's output streams go to `stderr`; no signal handlers of its own. */
export function listrOptions(listr2: typeof Listr2, mode: ProgressMode, stderr: NodeJS.WritableStream) {
  const logger = new listr2.ListrLogger({ processOutput: new listr2.ProcessOutput(stderr as NodeJS.WriteStream, stderr as NodeJS.WriteStream) });
  return {
    renderer: renderer(mode),
    fallbackRenderer: 'simple' as const,
    exitOnError: true,
    registerSignalListeners: false,
    collectErrors: false as const,
    rendererOptions: { logger, collapseSubtasks: false, showErrorMessage: false, timer: undefined } as never,
    fallbackRendererOptions: { logger } as never,
  };
}

/** Progress text for a transfer: `12.3 MiB / 45.6 MiB · 3.4 MiB/s`. */
export function transferText(bytes: number, total: number, startedAt: number, now = Date.now()): string {
  const secs = Math.max(0.001, (now - startedAt) / 1000);
  return `${mib(bytes)} / ${mib(total)} · ${mib(bytes / secs)}/s`;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/**
 * Calls `fn` at most every `ms` milliseconds, always passing the latest value; `flush` forces it.
 * The first call waits a full interval too: a transfer shorter than that prints no progress line
 * (plain logs then show only the task's completion).
 */
export function throttle<A extends unknown[]>(ms: number, fn: (...a: A) => void): ((...a: A) => void) & { flush: () => void } {
  let last = Date.now();
  let pending: A | undefined;
  const call = (...a: A): void => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      pending = undefined;
      fn(...a);
    } else pending = a;
  };
  return Object.assign(call, {
    flush: () => {
      if (pending !== undefined) fn(...pending);
      pending = undefined;
    },
  });
}
