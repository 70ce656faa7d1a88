/**
 * Lays a matrix (row labels × version columns) out for a terminal of a given width: long cells
 * wrap at list separators, and when the columns do not fit side by side they are shown in
 * successive blocks, each repeating the row labels. Pure: the width and the styling are inputs.
 * Hand-written: `table` in src/cli/render.ts pads columns but neither wraps cells nor splits
 * columns into blocks, and table libraries wrap at spaces only and cannot repeat the label column.
 */

export interface MatrixRow {
  /** Row label (`Release Date`, `- cloud`, `**Platforms**`). */
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

export interface GridOptions {
  /** Terminal width in characters. */
  width: number;
  /** Styling of the header line and of section labels. */
  bold?: (s: string) => string;
  section?: (s: string) => string;
}

const GAP = '  ';
const MIN_COLUMN = 22;

/** Splits a cell into lines of at most `width`, breaking after `, ` and `; ` first, then at spaces. */
export function wrapCell(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  const push = (): void => {
    if (line.trimEnd() !== '') lines.push(line.trimEnd());
    line = '';
  };
  for (const item of text.split(/(?<=[,;]) /)) {
    if ((line === '' ? item : `${line} ${item}`).length <= width) {
      line = line === '' ? item : `${line} ${item}`;
      continue;
    }
    push();
    // An item longer than the column breaks at spaces, and a word longer than it is cut.
    for (const word of item.split(' ')) {
      let w = word;
      while (w.length > width) {
        push();
        lines.push(w.slice(0, width));
        w = w.slice(width);
      }
      if ((line === '' ? w : `${line} ${w}`).length <= width) line = line === '' ? w : `${line} ${w}`;
      else {
        push();
        line = w;
      }
    }
  }
  push();
  return lines.length === 0 ? [''] : lines;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - s.length));
}

export function renderGrid(table: MatrixTable, opts: GridOptions): string {
  const bold = opts.bold ?? ((s: string) => s);
  const section = opts.section ?? ((s: string) => s);
  const labels = [table.header.label, ...table.rows.map((r) => r.label)];
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const columns = table.header.cells.length;
  const room = Math.max(MIN_COLUMN, opts.width - labelWidth - GAP.length);
  const widest = (i: number): number => Math.max(table.header.cells[i]?.length ?? 0, ...table.rows.map((r) => r.cells[i]?.length ?? 0));
  const perBlock = Math.max(1, Math.min(columns, Math.floor((room + GAP.length) / (MIN_COLUMN + GAP.length))));
  const blocks: string[] = [];
  for (let start = 0; start < columns; start += perBlock) {
    const idx = Array.from({ length: Math.min(perBlock, columns - start) }, (_, k) => start + k);
    const share = Math.floor((room + GAP.length) / idx.length) - GAP.length;
    const widths = idx.map((i) => Math.max(1, Math.min(widest(i), share)));
    const out: string[] = [];
    const line = (label: string, cells: readonly string[]): string => [pad(label, labelWidth), ...cells.map((c, k) => pad(c, widths[k] ?? 0))].join(GAP).trimEnd();
    out.push(bold(line(table.header.label, idx.map((i) => table.header.cells[i] ?? ''))));
    for (const row of table.rows) {
      if (row.section) {
        out.push(section(row.label));
        continue;
      }
      const wrapped = idx.map((i, k) => wrapCell(row.cells[i] ?? '', widths[k] ?? 1));
      const height = Math.max(...wrapped.map((w) => w.length));
      for (let h = 0; h < height; h++) out.push(line(h === 0 ? row.label : '', wrapped.map((w) => w[h] ?? '')));
    }
    blocks.push(out.join('\n'));
  }
  return blocks.join('\n\n');
}
