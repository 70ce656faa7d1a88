/** How commands plug into the program: each registers itself and hands its handler to `run`. */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import type { AnyCommandResult } from './render.js';

// Commander passes options as a loosely typed record; each handler declares the shape it reads.
export type Handler<O> = (ctx: CliContext, args: string[], opts: O) => Promise<AnyCommandResult>;
export type Run = <O>(handler: Handler<O>) => (...actionArgs: unknown[]) => Promise<void>;

export interface CommandSpec {
  register(program: Command, run: Run): void;
}
