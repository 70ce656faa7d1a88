/**
 * The one renderer: a command returns data and a way to say it to a person; this prints either
 * that text or the data as JSON on stdout, and nothing else goes to stdout. Also appends GitHub
 * Actions step outputs when GITHUB_OUTPUT is set.
 */
import { appendFile } from 'node:fs/promises';
import { redact } from '../errors.js';

export interface CommandResult<T = unknown> {
  data: T;
  /** Human form of `data`, for a terminal or a log. */
  human: (data: T, style: Style) => string;
  /** Step outputs (reference, digest, paths) for CI. */
  outputs?: Record<string, string>;
  /** Non-zero when the command ran but its verdict is negative (verification failed → 3). */
  exitCode?: number;
}

export interface Style {
  ok(s: string): string;
  bad(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (open: number, close: number) => (s: string): string => (color ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { ok: wrap(32, 39), bad: wrap(31, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

export function useColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return isTTY && env['TERM'] !== 'dumb';
}

export interface RenderTarget {
  json: boolean;
  stdout: NodeJS.WritableStream;
  style: Style;
  env: NodeJS.ProcessEnv;
}

/**
 * Any command's result, whatever its data type: a handler may return one of several result types
 * (pull: cache or engine). Its `human` is only ever called with that same result's `data`.
 */
export interface AnyCommandResult {
  data: unknown;
  human: (data: never, style: Style) => string;
  outputs?: Record<string, string> | undefined;
  exitCode?: number | undefined;
}

export async function render(result: AnyCommandResult, target: RenderTarget): Promise<void> {
  const text = target.json ? `${JSON.stringify(result.data, null, 2)}\n` : ensureNewline(result.human(result.data as never, target.style));
  target.stdout.write(redact(text));
  await writeStepOutputs(result.outputs, target.env);
}

function ensureNewline(s: string): string {
  return s === '' || s.endsWith('\n') ? s : `${s}\n`;
}

async function writeStepOutputs(outputs: Record<string, string> | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const file = env['GITHUB_OUTPUT'];
  if (outputs === undefined || file === undefined || file === '') return;
  const lines = Object.entries(outputs).map(([k, v]) => {
    // Multi-line values need the heredoc form; single-line ones stay readable.
    if (!v.includes('\n')) return `${k}=${v}\n`;
    const delim = `KAIROS_IMG_${Math.random().toString(36).slice(2)}`;
    return `${k}<<${delim}\n${v}\n${delim}\n`;
  });
  await appendFile(file, redact(lines.join('')));
}

/** A plain text table: columns padded to the widest cell. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, style?: Style): string {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0))).join('  ').trimEnd();
  const head = line(headers);
  return [style === undefined ? head : style.bold(head), ...rows.map(line)].join('\n');
}

// SGR colour sequences (ESC [ … m) take no columns.
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function visibleLength(s: string): number {
  return [...s.replace(SGR, '')].length;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - visibleLength(s)));
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
