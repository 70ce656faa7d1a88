// The CLI loads the module of the command a run names, and every module only when it must list them.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandName as nameIn, commandsFor as loadFor } from '../../../src/cli/commands/index.js';
import { globalValueFlags } from '../../../src/cli/main.js';

const commandName = (argv: string[]): string | undefined => nameIn(argv, globalValueFlags());
const commandsFor = (argv: string[]): ReturnType<typeof loadFor> => loadFor(argv, globalValueFlags());

function registered(specs: Awaited<ReturnType<typeof commandsFor>>): string[] {
  const program = new Command();
  for (const s of specs) s.register(program, () => async () => undefined);
  return program.commands.map((c) => c.name());
}

describe('commandName', () => {
  it('skips global options and the values of those that take one', () => {
    expect(commandName(['--registry', '127.0.0.1:5000', '--plain-http', 'pull', 'x'])).toBe('pull');
    expect(commandName(['--cache-dir', '/tmp/c', '-q', 'unpack'])).toBe('unpack');
    expect(commandName(['--registry=127.0.0.1:5000', 'tags'])).toBe('tags');
    expect(commandName(['--json', '--', 'verify'])).toBe('verify');
    expect(commandName(['--help'])).toBeUndefined();
  });
});

describe('commandsFor', () => {
  it('loads the one command a run names, with its own options (flavors --version)', async () => {
    expect(registered(await commandsFor(['--registry', 'r:5000', 'pull', 'a:b']))).toEqual(['pull']);
    expect(registered(await commandsFor(['flavors', '--version', 'v2.4.3']))).toEqual(['flavors']);
  });
  it('loads none for a bare --version, all for help or an unknown name, in --help order', async () => {
    expect(await commandsFor(['--version'])).toEqual([]);
    const all = COMMANDS.map((c) => c.name);
    expect(registered(await commandsFor(['--help']))).toEqual(all);
    expect(registered(await commandsFor(['pul']))).toEqual(all);
    expect(all).toHaveLength(14);
  });
});
