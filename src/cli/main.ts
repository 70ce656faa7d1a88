/**
 * argv → command → result → output and exit code. The only module that touches process-wide
 * state (signals, exit code); everything below it takes an AbortSignal and returns data.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { describeFailure } from './exit.js';
import { redactingStream } from '../redact.js';
import { createContext, type GlobalOptions, type Io } from './context.js';
import { makeStyle, render, useColor } from './render.js';
import type { CommandSpec, Run } from './command.js';
import { commandsFor } from './commands/index.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Options every command accepts, before or after its name. */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON document on stdout (progress, if any, on stderr)')
    .option('-q, --quiet', 'no progress output')
    .option('-v, --verbose', 'a line per event (requests, retries, layers) on stderr')
    .option('--debug', 'stack traces on errors')
    .addOption(new Option('--registry <host[:port]>', 'use this registry instead of quay.io / ghcr.io (mirrors, a local registry)').env('KAIROS_IMG_REGISTRY'))
    .option('--plain-http', 'talk HTTP instead of HTTPS to the registry (env KAIROS_IMG_PLAIN_HTTP=1)')
    .option('--offline', 'content from configured mirrors only, never from a registry that has mirrors (env KAIROS_IMG_OFFLINE=1); verify: the tag grammar only')
    .addOption(new Option('--cache-dir <dir>', 'content cache (default $KAIROS_IMG_CACHE, $XDG_CACHE_HOME/kairos-img, ~/.cache/kairos-img)'));
}

/** The flags of the global options that take a value: what finding the command's name in argv skips. */
export function globalValueFlags(): Set<string> {
  const flags = new Set<string>();
  for (const o of addGlobalOptions(new Command()).options) {
    if (!o.required && !o.optional) continue;
    for (const f of [o.long, o.short]) if (f !== undefined) flags.add(f);
  }
  return flags;
}

export function buildProgram(io: Io, state: { exitCode: number }, specs: readonly CommandSpec[]): Command {
  const program = new Command('kairos-img');
  program
    .description('Pull, unpack, extract and verify Kairos OS images — daemonless, verified, atomic.')
    .version(packageVersion(), '-V, --version', 'print the kairos-img version')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  addGlobalOptions(program);
  program.addHelpText('after', '\nExamples:\n  kairos-img flavors\n  kairos-img resolve ubuntu-22-lts standard --version v1.5.1 --k3s v1.26.1+k3s1\n  kairos-img pull ubuntu-22-lts standard --to oci:./image');

  const run: Run = (handler) => async (...actionArgs: unknown[]) => {
    const cmd = actionArgs[actionArgs.length - 1] as Command;
    const opts = cmd.opts();
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    const args = actionArgs.slice(0, -2).flatMap((a) => (Array.isArray(a) ? (a as string[]) : a === undefined ? [] : [String(a)]));
    const ctx = createContext(globals, io);
    const result = await handler(ctx, args, opts as never);
    const names: string[] = [];
    for (let c: Command | null = cmd; c !== null && c.parent !== null; c = c.parent) names.unshift(c.name());
    await render(result, { json: ctx.json, stdout: io.stdout, style: ctx.style, env: io.env, command: names.join(' ') });
    state.exitCode = result.exitCode ?? 0;
  };

  const addCommand = program.command.bind(program);
  // Every subcommand gets the global options too, so they work after the command name.
  program.command = ((...a: Parameters<Command['command']>) => {
    const sub = addCommand(...a);
    addGlobalOptions(sub).exitOverride().showHelpAfterError('(run with --help for usage)');
    return sub;
  }) as Command['command'];
  for (const spec of specs) spec.register(program, run);
  return program;
}

export async function main(argv: string[], io?: Partial<Io>): Promise<number> {
  const controller = new AbortController();
  // Every byte the tool writes passes redaction: secrets a server echoed never reach a log.
  const fullIo: Io = {
    env: io?.env ?? process.env,
    stdout: redactingStream(io?.stdout ?? process.stdout),
    stderr: redactingStream(io?.stderr ?? process.stderr),
    signal: io?.signal ?? controller.signal,
  };
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    fullIo.stderr.write('\nkairos-img: interrupting (cleaning up; press Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  const installSignals = io?.signal === undefined;
  if (installSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const state = { exitCode: 0 };
  const wantsJson = argv.includes('--json');
  const debug = argv.includes('--debug');
  try {
    await buildProgram(fullIo, state, await commandsFor(argv, globalValueFlags())).parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (e) {
    const style = makeStyle(useColor(fullIo.env, (fullIo.stderr as { isTTY?: boolean }).isTTY === true));
    const failure = describeFailure(controller.signal.aborted ? Object.assign(new Error('interrupted'), { name: 'AbortError', cause: e }) : e, { debug, style });
    if (failure.text !== '') fullIo.stderr.write(`${failure.text}\n`);
    if (wantsJson && failure.json !== undefined) fullIo.stdout.write(`${JSON.stringify(failure.json, null, 2)}\n`);
    return failure.code;
  } finally {
    if (installSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
