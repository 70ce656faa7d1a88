/**
 * The Talos support matrix as the seed's table: its rows, one column per version (newest first),
 * each cell the text the seed writes. Pure. Cells come in two forms: plain text for a terminal and
 * Markdown (links as the seed writes them) for documents.
 */
import { compareMinors, minorsBetween } from '../../version/minor.js';
import { TIERS, type TalosRelease } from './types.js';

export type CellFormat = 'text' | 'markdown';

export interface MatrixRow {
  /** Row label as the seed writes it (`Release Date`, `- cloud`, `**Platforms**`). */
  label: string;
  /** A section heading has empty cells. */
  section: boolean;
  /** One cell per column, in column order. */
  cells: string[];
}

export interface MatrixTable {
  header: { label: string; cells: string[] };
  rows: MatrixRow[];
}

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
  return [...releases].sort((a, b) => compareMinors(b.version, a.version));
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
