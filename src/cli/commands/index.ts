import type { CommandSpec } from '../command.js';
import { flavorsCommand } from './flavors.js';
import { resolveCommand } from './resolve.js';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: readonly CommandSpec[] = [flavorsCommand, resolveCommand];
