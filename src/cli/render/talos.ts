/**
 * How `talos` shows the catalog's Talos data: the support matrix as the seed's table (its rows,
 * one column per version, newest first, each cell the text the seed writes) for a terminal (the
 * grid) or as Markdown with the seed's links, and `talos check` results (lines like `verify`'s;
 * JSON with the keys `talos check` has always written). Pure.
 */
import type { TalosCheckReport } from '../../catalog/talos/check.js';
import { TIERS, type TalosRelease } from '../../catalog/talos/types.js';
import { compareMinors, minorsBetween, newestFirst } from '../../version/index.js';
import type { Style } from '../render.js';
import { checkLines } from './checks.js';
import type { MatrixRow, MatrixTable } from './grid.js';

export type { MatrixRow, MatrixTable } from './grid.js';

export type CellFormat = 'text' | 'markdown';

interface Link {
  text: string;
  url?: string | undefined;
}

function link(l: Link, format: CellFormat): string {
  if (l.url === undefined) return l.text;
  return format === 'markdown' ? `[${l.text}](${l.url})` : `${l.text} (${l.url})`;
}

/** Newest first, as the seed's columns. */
export function columnsNewestFirst(releases: readonly TalosRelease[]): TalosRelease[] {
  const newest = newestFirst(compareMinors);
  return [...releases].sort((a, b) => newest(a.version, b.version));
}

type RowSpec = { label: Link; cell?: (r: TalosRelease, f: CellFormat) => string; section?: boolean };

const list = (xs: readonly string[]): string => xs.join(', ');

const ROWS: readonly RowSpec[] = [
  { label: { text: 'Release Date' }, cell: (r) => (r.released.release === undefined ? r.released.date : `${r.released.date} (${r.released.release})`) },
  {
    label: { text: 'End of Community Support' },
    cell: (r) => `${r.communitySupportEnds.release} release (${r.communitySupportEnds.date}${r.communitySupportEnds.tbd ? ', TBD' : ''})`,
  },
  { label: { text: 'Enterprise Support' }, cell: (r, f) => link(r.enterpriseSupport, f) },
  { label: { text: 'Kubernetes' }, cell: (r) => list(minorsBetween(r.kubernetes.min, r.kubernetes.max).reverse()) },
  { label: { text: 'Architecture' }, cell: (r) => list(r.arches) },
  { label: { text: 'Platforms' }, section: true },
  { label: { text: '- cloud' }, cell: (r) => list(r.platforms.cloud) },
  { label: { text: '- bare metal' }, cell: (r) => r.platforms.bareMetal.map((b) => `${b.key}: ${list(b.values)}`).join('; ') },
  { label: { text: '- virtualized' }, cell: (r) => list(r.platforms.virtualized) },
  { label: { text: '- SBCs' }, cell: (r) => list(r.platforms.sbcs) },
  { label: { text: '- local' }, cell: (r) => list(r.platforms.local) },
  { label: { text: 'Cluster API' }, section: true },
  { label: { text: 'CAPI Bootstrap Provider Talos', url: 'https://github.com/siderolabs/cluster-api-bootstrap-provider-talos' }, cell: (r) => `>= ${r.capi.bootstrap}` },
  { label: { text: 'CAPI Control Plane Provider Talos', url: 'https://github.com/siderolabs/cluster-api-control-plane-provider-talos' }, cell: (r) => `>= ${r.capi.controlPlane}` },
  { label: { text: 'Sidero', url: 'https://www.sidero.dev/' }, cell: (r) => `>= ${r.capi.sidero}` },
];

/** Rows past the seed's table: what the seed says beside it (tiers) and the upgrade minimum. */
const EXTRA_ROWS: readonly RowSpec[] = [
  { label: { text: 'Platform Tiers' }, section: true },
  ...TIERS.map((t): RowSpec => ({ label: { text: `- Tier ${t}` }, cell: (r) => list(r.tiers[t]) })),
  { label: { text: 'Upgrades' }, section: true },
  { label: { text: '- from' }, cell: (r) => `>= ${r.upgradeFrom}` },
];

/** The seed's rows (and, unless `seedOnly`, tiers and upgrade minimum) for these columns. */
export function matrixTable(columns: readonly TalosRelease[], opts: { format?: CellFormat; seedOnly?: boolean } = {}): MatrixTable {
  const f = opts.format ?? 'text';
  const specs = opts.seedOnly === true ? ROWS : [...ROWS, ...EXTRA_ROWS];
  const rows = specs.map((s): MatrixRow => {
    // Terminal labels drop the links: the URLs would make the label column wider than the cells.
    const label = s.section === true ? (f === 'markdown' ? `**${s.label.text}**` : s.label.text) : f === 'markdown' ? link(s.label, f) : s.label.text;
    return { label, section: s.section === true, cells: columns.map((r) => (s.cell === undefined ? '' : s.cell(r, f))) };
  });
  return { header: { label: 'Talos Version', cells: columns.map((r) => r.version) }, rows };
}

/** The table as Markdown, one line per row (the seed's layout, without its column padding). */
export function matrixMarkdown(table: MatrixTable): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line([table.header.label, ...table.header.cells]),
    line([table.header.label, ...table.header.cells].map(() => '---')),
    ...table.rows.map((r) => line([r.label, ...r.cells])),
  ].join('\n');
}

/** `talos check` for a person: the date line, one ✓/✗ line per check, the verdict. */
export function talosCheckText(report: TalosCheckReport, style: Style): string {
  const verdict = report.supported ? style.ok('supported') : style.bad('not supported');
  return [style.dim(`Talos ${report.talos} (released ${report.released}), on ${report.on}`), ...checkLines(report.checks, style), verdict].join('\n');
}

/** A check as `talos check --json` writes it. */
export interface TalosCheckJson {
  check: string;
  ok: boolean;
  reason: string;
  platform?: string;
  tier?: string | null;
  path?: string[];
}

/** `talos check --json`: the report with each check under the keys the command has always written (`check`, `ok`, `reason`, …). */
export function talosCheckJson(report: TalosCheckReport): Omit<TalosCheckReport, 'checks'> & { checks: TalosCheckJson[] } {
  return {
    ...report,
    checks: report.checks.map(({ id, ok, message, ...found }) => ({ check: id, ok, ...found, reason: message })),
  };
}
