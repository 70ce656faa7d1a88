/**
 * A decompressor program (`zstd -dc`, `xz -dc`) as a readable stream: the input is piped to its
 * stdin, its stdout is the output, and the output ends only after the program exited 0 — so a
 * truncated or corrupt input is an error at the end of the stream, never a silently short file.
 * Running in its own process, it also keeps the second core busy.
 */
import { PassThrough, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { execaPackage } from '../lazy-packages.js';

export interface DecoderProcessOptions {
  command: string;
  args: readonly string[];
  input: Readable;
  signal?: AbortSignal | undefined;
  highWaterMark: number;
  /** The error the stream fails with, from the program's failure (its stderr when it wrote any). */
  failure: (e: unknown, stderr: string | undefined) => Error;
}

export function decoderProcess(opts: DecoderProcessOptions): Readable {
  const out = new PassThrough({ highWaterMark: opts.highWaterMark });
  execaPackage().then(({ execa }) => {
    const sub = execa(opts.command, [...opts.args], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: { stdout: false, stderr: true },
      ...(opts.signal ? { cancelSignal: opts.signal } : {}),
    });
    sub.stdout.pipe(out, { end: false });
    const feeding = pipeline(opts.input, sub.stdin);
    Promise.all([feeding, finished(sub.stdout), sub]).then(
      () => out.end(),
      (e: unknown) => {
        const stderr = (e as { stderr?: unknown }).stderr;
        out.destroy(opts.failure(e, typeof stderr === 'string' && stderr !== '' ? stderr.trim() : undefined));
      },
    );
    out.on('close', () => {
      if (sub.exitCode === null) sub.kill();
    });
  }, (e: unknown) => out.destroy(opts.failure(e, undefined)));
  return out;
}

const available = new Map<string, Promise<boolean>>();

/** Whether `command --version` runs (asked once per program and process). */
export function hasProgram(command: string): Promise<boolean> {
  let p = available.get(command);
  if (p === undefined) {
    p = execaPackage().then(({ execa }) => execa(command, ['--version'], { reject: false })).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    available.set(command, p);
  }
  return p;
}
