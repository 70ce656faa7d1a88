/**
 * The process around `main()`: sets the exit code when the command settles, and — should the
 * event loop ever run dry before it does (a stream that never ends, a promise nobody resolves) —
 * exits non-zero with an internal-error message instead of Node's default 0. A command that did not
 * finish must never look like success to a CI job.
 */
import { main as defaultMain } from './main.js';

export type Main = (argv: string[]) => Promise<number>;

/** Exit code of a run that ended without a result (an internal error, not a verdict). */
export const UNSETTLED_EXIT = 1;

export function launch(argv: string[], main: Main = defaultMain): void {
  let settled = false;
  process.once('exit', () => {
    if (settled) return;
    process.stderr.write('kairos-img: internal error: the command ended before it finished (nothing was left pending to finish it); this is a bug, please report it with --debug output\n');
    process.exitCode = UNSETTLED_EXIT;
  });
  main(argv).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (e: unknown) => {
      settled = true;
      process.stderr.write(`kairos-img: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
