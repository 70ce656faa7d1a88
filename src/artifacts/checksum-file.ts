/**
 * `sha256sum` output, pure. Kairos writes `<name>.img.sha256` with `sha256sum` over the
 * UNCOMPRESSED disk image and names it by an absolute path (`/build/<name>.img`), while the file
 * that ships is usually `<name>.img.xz`: lines are matched to files by base name with the
 * compression suffix removed. Hand-written: the format is three fields and no npm package parses
 * coreutils' escaping and binary marker without also wanting to read the files itself.
 */

export interface ChecksumLine {
  /** Lower-case hex digest. */
  readonly hex: string;
  /** The name as written (unescaped), e.g. `/build/kairos.img`. */
  readonly name: string;
  /** `*` marker: coreutils read the file in binary mode (same bytes on Linux). */
  readonly binary: boolean;
}

export interface ParsedChecksums {
  readonly lines: readonly ChecksumLine[];
  /** Lines that are not `sha256sum` output (reported, never fatal: the image check is what matters). */
  readonly problems: readonly string[];
}

const LINE = /^(\\?)([0-9a-fA-F]{64}) ([ *])(.+)$/;
const BSD = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/;

/** coreutils escapes `\` and newline in names and then starts the line with `\`. */
function unescapeName(name: string): string {
  return name.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

export function parseChecksumFile(text: string): ParsedChecksums {
  const lines: ChecksumLine[] = [];
  const problems: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m !== null) {
      const escaped = m[1] === '\\';
      const name = m[4] ?? '';
      lines.push({ hex: (m[2] ?? '').toLowerCase(), name: escaped ? unescapeName(name) : name, binary: m[3] === '*' });
      continue;
    }
    const bsd = BSD.exec(line);
    if (bsd !== null) {
      lines.push({ hex: (bsd[2] ?? '').toLowerCase(), name: bsd[1] ?? '', binary: true });
      continue;
    }
    problems.push(`line ${i + 1} is not sha256sum output: ${JSON.stringify(line.slice(0, 120))}`);
  }
  return { lines, problems };
}

const COMPRESSION_SUFFIX = /\.(xz|gz|zst)$/;

export type ImageCompression = 'xz' | 'gzip' | 'zstd' | 'none';

/** The compression a disk image's name says it has. */
export function imageCompressionOf(name: string): ImageCompression {
  if (name.endsWith('.xz')) return 'xz';
  if (name.endsWith('.gz')) return 'gzip';
  if (name.endsWith('.zst')) return 'zstd';
  return 'none';
}

/** `dir/kairos.img.xz` → `kairos.img`: the name the checksum was computed under. */
export function uncompressedName(name: string): string {
  return baseOf(name).replace(COMPRESSION_SUFFIX, '');
}

function baseOf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** A disk image: `<name>.img` optionally compressed with xz, gzip or zstd. */
export function isDiskImageName(name: string): boolean {
  return /\.img(\.(xz|gz|zst))?$/.test(baseOf(name));
}

export function isChecksumFileName(name: string): boolean {
  return baseOf(name).endsWith('.sha256');
}

export type Expectation =
  | { kind: 'none' }
  /** `of: 'raw'` — over the uncompressed image (Kairos' form); `'shipped'` — over the file as stored. */
  | { kind: 'one'; hex: string; of: 'raw' | 'shipped'; line: ChecksumLine }
  | { kind: 'conflict'; hexes: string[] };

/**
 * The expected digest for `imageName` among every checksum line seen. A line naming the
 * uncompressed base name (`/build/x.img` for `x.img.xz`) is over the raw image; a line naming the
 * shipped name exactly (`x.img.xz`) is over the compressed file. Several distinct digests for one
 * image cannot all be right: that is a conflict, never silently resolved.
 */
export function expectedDigestFor(imageName: string, lines: readonly ChecksumLine[]): Expectation {
  const shipped = baseOf(imageName);
  const raw = uncompressedName(imageName);
  const found: Array<{ line: ChecksumLine; of: 'raw' | 'shipped' }> = [];
  for (const line of lines) {
    const base = baseOf(line.name);
    if (base === raw) found.push({ line, of: 'raw' });
    else if (base === shipped) found.push({ line, of: 'shipped' });
  }
  const distinct = [...new Map(found.map((f) => [`${f.of}:${f.line.hex}`, f])).values()];
  if (distinct.length === 0) return { kind: 'none' };
  if (distinct.length > 1) return { kind: 'conflict', hexes: distinct.map((f) => f.line.hex) };
  const one = distinct[0] as { line: ChecksumLine; of: 'raw' | 'shipped' };
  return { kind: 'one', hex: one.line.hex, of: one.of, line: one.line };
}
