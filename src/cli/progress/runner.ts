/**
 * Every long command is a listr2 task list. This chooses the renderer (spinners on a TTY, plain
 * lines for CI and logs, one line per event with --verbose, nothing with --quiet), always on
 * stderr so stdout carries only the command's data, and wires Ctrl-C through the AbortSignal.
 */
import { Listr, ListrLogger, ProcessOutput, type ListrTask } from 'listr2';
import { interrupted } from '../../errors.js';

export type ProgressMode = 'tty' | 'plain' | 'verbose' | 'silent';

export interface RunTasksOptions {
  mode: ProgressMode;
  stderr?: NodeJS.WriteStream | undefined;
  signal?: AbortSignal | undefined;
}

function renderer(mode: ProgressMode): 'default' | 'simple' | 'verbose' | 'silent' {
  switch (mode) {
    case 'tty': return 'default';
    case 'plain': return 'simple';
    case 'verbose': return 'verbose';
    case 'silent': return 'silent';
  }
}

export async function runTasks<C extends object>(tasks: ReadonlyArray<ListrTask<C>>, ctx: C, opts: RunTasksOptions): Promise<C> {
  opts.signal?.throwIfAborted();
  const stderr = opts.stderr ?? process.stderr;
  // Both streams of listr2's process output go to stderr: progress never mixes with data.
  const logger = new ListrLogger({ processOutput: new ProcessOutput(stderr, stderr) });
  const list = new Listr<C, 'default' | 'simple' | 'verbose' | 'silent', 'simple'>([...tasks], {
    ctx,
    renderer: renderer(opts.mode),
    fallbackRenderer: 'simple',
    exitOnError: true,
    registerSignalListeners: false,
    collectErrors: false,
    rendererOptions: { logger, collapseSubtasks: false, showErrorMessage: false, timer: undefined } as never,
    fallbackRendererOptions: { logger } as never,
  });
  try {
    return await list.run();
  } catch (e) {
    if (opts.signal?.aborted === true) throw interrupted();
    throw e;
  }
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
