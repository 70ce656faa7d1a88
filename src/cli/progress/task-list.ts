/**
 * The listr2 adapter: an operation runs as a plain async function and reports typed events; this
 * shows them as a task list on stderr — spinners on a TTY, plain lines in CI and logs, a line per
 * event with --verbose, nothing with --quiet. The command declares its steps up front and maps
 * each event onto them (`StepUi`); the operation never knows a terminal exists.
 *
 * How it fits listr2: every step is a listr task that waits until the operation says the step is
 * done (or skipped, or failed). A step may open a concurrent sub-list (layers) whose items finish
 * on their own events. When the operation fails, the step running at that moment fails with the
 * error and the list stops; the operation's own error is what the command throws.
 */
import type { ListrTask } from 'listr2';
import { interrupted } from '../../errors.js';
import { listrOptions, throttle, type ProgressMode } from './runner.js';

export interface StepDef {
  id: string;
  /** The title shown while the step runs (until the operation's events change it). */
  title: string;
}

export interface StepUi {
  /** The step's title (the final one when called at or after its end). */
  title(step: string, text: string): void;
  /** A progress line under the running step; throttled (150 ms on a TTY, 5 s in plain logs). */
  output(step: string, text: string): void;
  /** Shows the latest throttled progress line now (plain logs skip lines of short steps otherwise). */
  flush(step: string): void;
  done(step: string, title?: string): void;
  skip(step: string, reason: string): void;
  /** Opens concurrent items under the step; the step ends when all of them did. */
  items(step: string, items: ReadonlyArray<{ id: string; title: string }>): void;
  itemOutput(step: string, item: string, text: string): void;
  /** Ends an item; `suffix` is appended to its title (" cached"). */
  itemDone(step: string, item: string, suffix?: string): void;
  /** A line for --verbose (request logs); dropped otherwise. */
  log(line: string): void;
  /** A warning for the user (`warning: …` on stderr), shown unless --quiet. */
  warn(line: string): void;
  readonly mode: ProgressMode;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
  settled: boolean;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((a, b) => { resolve = a; reject = b; });
  promise.catch(() => undefined);
  const d: Deferred = {
    promise,
    settled: false,
    resolve: () => { d.settled = true; resolve(); },
    reject: (e) => { d.settled = true; reject(e); },
  };
  return d;
}

// The wrapper listr2 hands a task: title, output, skip, newListr.
type Wrapper = Parameters<ListrTask<unknown>['task']>[1];

interface ItemState {
  id: string;
  title: string;
  done: Deferred;
  task?: Wrapper | undefined;
  output?: ((text: string) => void) & { flush: () => void };
  pendingOutput?: string | undefined;
  suffix?: string | undefined;
}

interface StepState {
  def: StepDef;
  done: Deferred;
  /** Resolves when items are opened (or the step ends without any). */
  opened: Deferred;
  items?: ItemState[];
  task?: Wrapper | undefined;
  title: string;
  skipped?: string | undefined;
  output?: ((text: string) => void) & { flush: () => void };
  pendingOutput?: string | undefined;
}

export interface RunWithTasksOptions<R> {
  steps: readonly StepDef[];
  mode: ProgressMode;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
  /** Verbose lines go here (stderr). */
  verboseLog?: ((line: string) => void) | undefined;
  run: (ui: StepUi) => Promise<R>;
}

export async function runWithTasks<R>(opts: RunWithTasksOptions<R>): Promise<R> {
  opts.signal.throwIfAborted();
  const interval = opts.mode === 'tty' ? 150 : 5000;
  const states = new Map<string, StepState>();
  for (const def of opts.steps) states.set(def.id, { def, done: deferred(), opened: deferred(), title: def.title });
  const stateOf = (id: string): StepState | undefined => states.get(id);

  const setTitle = (s: StepState, text: string): void => {
    s.title = text;
    if (s.task !== undefined) s.task.title = text;
  };
  const outputFor = (s: StepState): ((text: string) => void) & { flush: () => void } => {
    s.output ??= throttle(interval, (text: string) => {
      if (s.task !== undefined) s.task.output = text;
      else s.pendingOutput = text;
    });
    return s.output;
  };
  const itemOf = (s: StepState | undefined, id: string): ItemState | undefined => s?.items?.find((i) => i.id === id);

  const ui: StepUi = {
    mode: opts.mode,
    title: (step, text) => { const s = stateOf(step); if (s !== undefined) setTitle(s, text); },
    output: (step, text) => { const s = stateOf(step); if (s !== undefined && !s.done.settled) outputFor(s)(text); },
    done: (step, title) => {
      const s = stateOf(step);
      if (s === undefined || s.done.settled) return;
      if (title !== undefined) setTitle(s, title);
      s.opened.resolve();
      s.done.resolve();
    },
    flush: (step) => { stateOf(step)?.output?.flush(); },
    skip: (step, reason) => {
      const s = stateOf(step);
      if (s === undefined || s.done.settled) return;
      s.skipped = reason;
      s.opened.resolve();
      s.done.resolve();
    },
    items: (step, items) => {
      const s = stateOf(step);
      if (s === undefined || s.items !== undefined) return;
      s.items = items.map((i) => ({ id: i.id, title: i.title, done: deferred() }));
      s.opened.resolve();
    },
    itemOutput: (step, id, text) => {
      const item = itemOf(stateOf(step), id);
      if (item === undefined || item.done.settled) return;
      item.output ??= throttle(interval, (t: string) => {
        if (item.task !== undefined) item.task.output = t;
        else item.pendingOutput = t;
      });
      item.output(text);
    },
    itemDone: (step, id, suffix) => {
      const item = itemOf(stateOf(step), id);
      if (item === undefined || item.done.settled) return;
      item.suffix = suffix;
      item.done.resolve();
    },
    log: (line) => {
      if (opts.mode === 'verbose') opts.verboseLog?.(line);
    },
    warn: (line) => {
      if (opts.mode !== 'silent') opts.stderr.write(`warning: ${line}\n`);
    },
  };

  const tasks: Array<ListrTask<unknown>> = opts.steps.map((def) => ({
    title: def.title,
    task: async (_ctx: unknown, task: Wrapper) => {
      const s = stateOf(def.id) as StepState;
      s.task = task;
      task.title = s.title;
      if (s.pendingOutput !== undefined) task.output = s.pendingOutput;
      await s.opened.promise;
      if (s.items !== undefined) {
        const items = s.items;
        // Returned, not run: the parent list renders the items (on stderr, like the rest).
        return task.newListr(items.map((item): ListrTask<unknown> => ({
          title: item.title,
          task: async (_c: unknown, t: Wrapper) => {
            item.task = t;
            if (item.pendingOutput !== undefined) t.output = item.pendingOutput;
            await item.done.promise;
            if (item.suffix !== undefined) t.title = `${item.title}${item.suffix}`;
          },
        })), { concurrent: true, exitOnError: true });
      }
      await s.done.promise;
      task.title = s.title;
      if (s.skipped !== undefined) task.skip(s.skipped);
      return undefined;
    },
  }));

  const finish = (e?: unknown): void => {
    for (const s of states.values()) {
      for (const item of s.items ?? []) {
        if (e === undefined) item.done.resolve();
        else item.done.reject(e);
      }
      if (e === undefined) {
        s.opened.resolve();
        s.done.resolve();
      } else {
        s.opened.reject(e);
        s.done.reject(e);
      }
    }
  };

  if (opts.mode === 'silent') {
    // Nothing to show: no task list, and listr2 (~7 MB, ~20 ms to load) is never loaded.
    try {
      return await opts.run(ui);
    } catch (e) {
      if (opts.signal.aborted) throw interrupted();
      throw e;
    }
  }

  const operation = opts.run(ui).then(
    (r) => { finish(); return r; },
    (e: unknown) => { finish(e); throw e; },
  );
  operation.catch(() => undefined);
  const listr2 = await import('listr2');
  const list = new listr2.Listr<unknown, 'default' | 'simple' | 'verbose' | 'silent', 'simple'>(tasks, listrOptions(listr2, opts.mode, opts.stderr));
  try {
    await list.run();
  } catch {
    // The operation's own error (below) is the one to report.
  }
  try {
    return await operation;
  } catch (e) {
    if (opts.signal.aborted) throw interrupted();
    throw e;
  }
}
