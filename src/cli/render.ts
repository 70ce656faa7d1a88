/**
 * The one renderer: a command returns data and a way to say it to a person; this prints either
 * that text or the data as JSON on stdout, and nothing else goes to stdout. In GitHub Actions it
 * also appends the step outputs (GITHUB_OUTPUT) and a short Markdown summary of what the command
 * did (GITHUB_STEP_SUMMARY): the command's own `summary`, or one made here from its data.
 */
import { appendFile } from 'node:fs/promises';
import { redact } from '../errors.js';

export interface CommandResult<T = unknown> {
  data: T;
  /** Human form of `data`, for a terminal or a log. */
  human: (data: T, style: Style) => string;
  /** Step outputs (reference, digest, paths) for CI. */
  outputs?: Record<string, string>;
  /** Markdown for GITHUB_STEP_SUMMARY; default: made from `data` by `stepSummary`. */
  summary?: (data: T) => string;
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
  /** The command as typed (`pull`, `artifact push`), for the step summary's heading. */
  command?: string | undefined;
}

/**
 * Any command's result, whatever its data type: a handler may return one of several result types
 * (pull: cache or engine). Its `human` is only ever called with that same result's `data`.
 */
export interface AnyCommandResult {
  data: unknown;
  human: (data: never, style: Style) => string;
  summary?: ((data: never) => string) | undefined;
  outputs?: Record<string, string> | undefined;
  exitCode?: number | undefined;
}

export async function render(result: AnyCommandResult, target: RenderTarget): Promise<void> {
  const text = target.json ? `${JSON.stringify(result.data, null, 2)}\n` : ensureNewline(result.human(result.data as never, target.style));
  target.stdout.write(redact(text));
  await writeStepOutputs(result.outputs, target.env);
  await writeStepSummary(result, target);
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

async function writeStepSummary(result: AnyCommandResult, target: RenderTarget): Promise<void> {
  const file = target.env['GITHUB_STEP_SUMMARY'];
  if (file === undefined || file === '') return;
  const md = result.summary !== undefined ? result.summary(result.data as never) : stepSummary(target.command ?? 'kairos-img', result.data, result.exitCode ?? 0);
  await appendFile(file, redact(md.endsWith('\n\n') ? md : `${ensureNewline(md)}\n`));
}

// --- step summaries (GitHub-flavoured Markdown) -------------------------------------------------

/** A table cell: pipes and newlines would break the row. */
export function mdCell(v: unknown): string {
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v) ?? '';
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function mdCode(v: string): string {
  return `\`${v.replace(/`/g, "'")}\``;
}

/** `| a | b |` rows under a header. */
export function mdTable(headers: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  const line = (cells: readonly unknown[]): string => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(headers), `|${headers.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

type Data = Record<string, unknown>;
const isData = (v: unknown): v is Data => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The facts most commands report, in this order, when the data has them. */
const FACTS: ReadonlyArray<[string, string, (v: unknown) => string | undefined]> = [
  ['reference', 'reference', (v) => (str(v) ? mdCode(str(v) as string) : undefined)],
  ['digest', 'digest', (v) => (str(v) ? mdCode(str(v) as string) : undefined)],
  ['indexDigest', 'index digest', (v) => (str(v) ? mdCode(str(v) as string) : undefined)],
  ['platform', 'platform', str],
  ['via', 'via', str],
  ['layers', 'layers', (v) => (num(v) !== undefined ? String(v) : Array.isArray(v) ? String(v.length) : undefined)],
  ['size', 'size', (v) => (num(v) !== undefined ? formatBytes(v as number) : undefined)],
  ['fetched', 'blobs fetched', (v) => (num(v) !== undefined ? String(v) : undefined)],
  ['cached', 'blobs cached', (v) => (num(v) !== undefined ? String(v) : undefined)],
  ['imageId', 'image ID', (v) => (str(v) ? mdCode(str(v) as string) : undefined)],
  ['dir', 'directory', (v) => (str(v) ? mdCode(str(v) as string) : undefined)],
  ['outDir', 'output directory', (v) => (str(v) ? mdCode(str(v) as string) : undefined)],
  ['entries', 'entries', (v) => (num(v) !== undefined ? String(v) : undefined)],
];

function facts(d: Data): string {
  const rows: string[][] = [];
  for (const [key, label, fmt] of FACTS) {
    const v = fmt(d[key]);
    if (v !== undefined) rows.push([label, v]);
  }
  const layout = isData(d.layout) ? str(d.layout.dir) : undefined;
  if (layout !== undefined) rows.push(['OCI layout', mdCode(`oci:${layout}${str((d.layout as Data).tag) ? `:${(d.layout as Data).tag as string}` : ''}`)]);
  if (rows.length === 0) return '';
  // Labels are ours (no escaping needed); values are already formatted.
  return ['| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${(v ?? '').replace(/\|/g, '\\|')} |`)].join('\n');
}

/**
 * A short Markdown account of what a command did, made from its data (what was pulled, unpacked,
 * verified: references, digests, sizes, verdicts). Commands with richer needs give their own.
 */
export function stepSummary(command: string, data: unknown, exitCode = 0): string {
  const parts: string[] = [];
  const d = isData(data) ? data : {};
  const verdict = typeof d.ok === 'boolean' ? (d.ok ? ' ✅ passed' : ' ❌ failed') : exitCode !== 0 ? ` (exit ${exitCode})` : '';
  parts.push(`### kairos-img ${command}${verdict}`);
  const f = facts(d);
  if (f !== '') parts.push(f);
  if (Array.isArray(d.checks)) {
    parts.push(mdTable(['check', 'result', ''], d.checks.filter(isData).map((c) => [
      str(c.id) ?? '', c.ok === true ? '✅' : c.ok === false ? (c.info === true ? 'ℹ️' : '❌') : 'skipped', str(c.message) ?? '',
    ])));
  }
  if (Array.isArray(d.files) && d.files.length > 0) {
    const files = d.files.filter(isData);
    parts.push(mdTable(['file', 'size', 'sha256', 'checksum'], files.map((x) => [
      str(x.path) ?? str(x.title) ?? '', num(x.size) !== undefined ? formatBytes(x.size as number) : '',
      str(x.rawSha256) ?? str(x.sha256) ?? str(x.digest) ?? '', str(x.checksum) ?? (x.verified === true ? 'verified' : ''),
    ])));
  }
  if (Array.isArray(d.tags)) {
    const rows = d.tags.filter(isData);
    parts.push(mdTable(['tag', 'kind', 'verdict'], rows.slice(0, 20).map((t) => [str(t.tag) ?? '', str(t.class) ?? '', str(t.status) ?? ''])));
    if (rows.length > 20) parts.push(`… and ${rows.length - 20} more tags`);
  }
  if (parts.length === 1) {
    // Nothing of the above: the data's own scalar fields and list sizes.
    const rows = Array.isArray(data) ? [['entries', String(data.length)]]
      : Object.entries(d).flatMap(([k, v]): string[][] => (Array.isArray(v) ? [[k, `${v.length}`]] : ['string', 'number', 'boolean'].includes(typeof v) ? [[k, String(v)]] : [])).slice(0, 8);
    parts.push(rows.length > 0 ? mdTable(['', ''], rows) : 'done');
  }
  // A blank line after: the next step's summary starts a block of its own.
  return `${parts.join('\n\n')}\n\n`;
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
