/** How commands plug into the program: each registers itself and hands its handler to `run`. */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import type { CommandResult } from './render.js';

// Commander passes options as a loosely typed record; each handler declares the shape it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler<O = any> = (ctx: CliContext, args: string[], opts: O) => Promise<CommandResult<any>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Run = <O = any>(handler: Handler<O>) => (...actionArgs: unknown[]) => Promise<void>;

export interface CommandSpec {
  register(program: Command, run: Run): void;
}
