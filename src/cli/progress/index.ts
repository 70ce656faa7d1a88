/** Runs an operation under a task list made for the command's context (mode, stderr, Ctrl-C). */
import type { CliContext } from '../context.js';
import { runWithTasks, type StepDef, type StepUi } from './task-list.js';

export type { StepDef, StepUi } from './task-list.js';

export function withProgress<R>(ctx: CliContext, steps: readonly StepDef[], run: (ui: StepUi) => Promise<R>): Promise<R> {
  return runWithTasks({
    steps, mode: ctx.progress, stderr: ctx.stderr, signal: ctx.signal, run,
    verboseLog: (line) => { ctx.stderr.write(`${line}\n`); },
  });
}
