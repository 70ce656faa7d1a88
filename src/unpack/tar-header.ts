/**
 * Tar header blocks, PAX records and GNU sparse maps → plain values, pure (no I/O). Names stay
 * bytes: every name and link target is a latin1 string (one char per byte), so `col-\xfe` and
 * `col-\xfd` stay two names; valid UTF-8 is decoded only for messages (entry-path.ts displayName).
 *
 * Hand-written rather than taken from tar-stream (3.2.2), which the unpack used before: it decodes
 * PAX values as UTF-8 (binary xattrs and non-UTF-8 PAX paths are lost), keeps only the last of
 * repeated PAX keys (the GNU sparse 0.0 map), does not expose the raw header (the old GNU sparse
 * map lives in it), silently accepts malformed PAX records, applies global records only to entries
 * that have a local one, and never ends the content stream of a directory whose header gives a
 * size (the walk waited forever). node-tar's parser is tied to its extractor and has no sparse
 * support either. The rules followed here are GNU tar's and Go's archive/tar's (reader.go).
 */
import type { EntryKind } from './entry-semantics.js';

export const BLOCK = 512;

export type TarFormat = 'ustar' | 'gnu' | 'star' | 'v7';

export interface HeaderBlock {
  /** The typeflag character ('0', '5', 'x', 'L', …; '\0' for old files). */
  readonly typeflag: string;
  readonly name: string;
  readonly linkname: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data that follow the header (before header-only types are taken into account). */
  readonly size: number;
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  readonly format: TarFormat;
}

/** A structural problem of the tar stream; the walk reports it with the caller's code. */
export function tarFormatError(message: string): Error {
  const e = new Error(message);
  e.name = 'TarFormatError';
  return e;
}

/** Bytes up to the first NUL (or the field's end), as a latin1 string. */
function field(block: Buffer, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && block[end] !== 0) end++;
  return block.toString('latin1', start, end);
}

function isBlank(b: number | undefined): boolean {
  return b === 0x20 || b === 0x00;
}

/**
 * A numeric header field: octal text (leading blanks, ended by NUL or space) or, when the first
 * byte has its high bit set, GNU's base-256 two's complement. `undefined` when it is neither.
 */
export function parseNumeric(block: Buffer, start: number, length: number): number | undefined {
  const first = block[start] as number;
  if ((first & 0x80) !== 0) {
    const negative = (first & 0x40) !== 0;
    let value = 0;
    for (let i = 0; i < length; i++) {
      let byte = block[start + i] as number;
      if (negative) byte ^= 0xff;
      if (i === 0) byte &= 0x7f;
      value = value * 256 + byte;
      if (value > Number.MAX_SAFE_INTEGER) return undefined;
    }
    return negative ? -value - 1 : value;
  }
  let i = start;
  const end = start + length;
  while (i < end && isBlank(block[i])) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i] as number;
    if (c < 0x30 || c > 0x37) break;
    value = value * 8 + (c - 0x30);
    digits++;
  }
  // What follows the digits must be padding: a field like `12x4` is not a number.
  for (; i < end; i++) if (!isBlank(block[i])) return undefined;
  if (digits === 0) return 0;
  return value > Number.MAX_SAFE_INTEGER ? undefined : value;
}

function checksumMatches(block: Buffer): boolean {
  const stored = parseNumeric(block, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  // Some old writers summed signed chars; GNU tar and Go accept either.
  return stored === unsigned || stored === signed;
}

function formatOf(block: Buffer): TarFormat {
  const magic = block.toString('latin1', 257, 263);
  const version = block.toString('latin1', 263, 265);
  if (magic === 'ustar\u0000' && version === '00') return block.toString('latin1', 508, 512) === 'tar\u0000' ? 'star' : 'ustar';
  if (magic === 'ustar ' && version === ' \u0000') return 'gnu';
  return 'v7';
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function numeric(block: Buffer, start: number, length: number, what: string): number {
  const n = parseNumeric(block, start, length);
  if (n === undefined) {
    throw tarFormatError(`not a tar header: its ${what} field ("${block.toString('latin1', start, start + length).replace(/[^\x20-\x7e]/g, '?')}") is not a number`);
  }
  return n;
}

/** Decodes one header block (not a zero block: see isZeroBlock). */
export function decodeHeader(block: Buffer): HeaderBlock {
  if (!checksumMatches(block)) throw tarFormatError('not a tar header (bad checksum): the data is corrupt or not a tar stream');
  const format = formatOf(block);
  const typeflag = String.fromCharCode(block[156] as number);
  let name = field(block, 0, 100);
  // The prefix field of ustar (and star's shorter one); GNU uses those bytes for times.
  if (format === 'ustar' || format === 'star') {
    const prefix = field(block, 345, format === 'star' ? 131 : 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const size = numeric(block, 124, 12, 'size');
  if (size < 0) throw tarFormatError(`not a tar header: negative size ${size}`);
  return {
    typeflag,
    name,
    linkname: field(block, 157, 100),
    mode: numeric(block, 100, 8, 'mode'),
    uid: numeric(block, 108, 8, 'uid'),
    gid: numeric(block, 116, 8, 'gid'),
    size,
    mtime: numeric(block, 136, 12, 'mtime'),
    devmajor: format === 'v7' ? 0 : numeric(block, 329, 8, 'devmajor'),
    devminor: format === 'v7' ? 0 : numeric(block, 337, 8, 'devminor'),
    format,
  };
}

/** The header types whose size field does not announce data (GNU tar and Go read none after them). */
export function isHeaderOnly(typeflag: string): boolean {
  return typeflag >= '1' && typeflag <= '6';
}

/**
 * The one tar-type mapper: typeflag → what the entry creates. Undefined for types with no
 * filesystem meaning here (GNU volume labels, multi-volume parts, vendor types): never a file.
 * A file whose name ends in `/` is a directory; GNU's dumpdir `D` is a directory whose
 * data (the dump's listing) is skipped.
 */
export function entryKindOf(typeflag: string, name = ''): EntryKind | undefined {
  switch (typeflag) {
    case '\u0000':
    case '0':
    case '7':
      // BSD tar's convention, which GNU tar follows: a file whose name ends in a slash is a directory.
      return name.endsWith('/') ? 'dir' : 'file';
    case 'S': // GNU sparse: a regular file whose holes are not stored
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
    case 'D':
      return 'dir';
    case '6':
      return 'fifo';
    default:
      return undefined;
  }
}

/** Printable form of a typeflag for messages. */
export function typeflagName(typeflag: string): string {
  const c = typeflag.charCodeAt(0);
  return c >= 0x21 && c <= 0x7e ? typeflag : `\\x${c.toString(16).padStart(2, '0')}`;
}

export interface PaxRecord {
  /** latin1 (keywords are ASCII in practice). */
  readonly key: string;
  readonly value: Buffer;
}

function malformed(problem: string): Error {
  return tarFormatError(`malformed PAX extended header: ${problem}`);
}

/** Parses `<length> <keyword>=<value>\n` records, in order (repeats kept: GNU sparse 0.0 repeats keys). */
export function parsePaxRecords(data: Buffer): PaxRecord[] {
  const out: PaxRecord[] = [];
  let pos = 0;
  while (pos < data.length) {
    // GNU tar pads the block with NULs after the last record.
    if (data[pos] === 0) {
      for (let i = pos; i < data.length; i++) if (data[i] !== 0) throw malformed('data after the NUL padding');
      break;
    }
    let i = pos;
    let length = 0;
    while (i < data.length && data[i] !== 0x20) {
      const c = data[i] as number;
      if (c < 0x30 || c > 0x39 || i - pos > 12) throw malformed('a record length is not a decimal number');
      length = length * 10 + (c - 0x30);
      i++;
    }
    if (i >= data.length || i === pos) throw malformed('a record has no length');
    const end = pos + length;
    if (length < 5 || end > data.length) throw malformed(`a record length (${length}) runs past the header`);
    if (data[end - 1] !== 0x0a) throw malformed('missing newline at the end of a record');
    const eq = data.indexOf(0x3d, i + 1);
    if (eq < 0 || eq >= end - 1) throw malformed('missing equal sign in a record');
    const key = data.toString('latin1', i + 1, eq);
    if (key === '') throw malformed('a record has an empty keyword');
    if (key.includes('\u0000')) throw malformed(`the keyword "${key.replaceAll('\u0000', '\\0')}" contains a NUL byte`);
    out.push({ key, value: data.subarray(eq + 1, end - 1) });
    pos = end;
  }
  return out;
}

/** One stored data region of a sparse file: `length` bytes at `offset` in the file. */
export interface SparseRegion {
  readonly offset: number;
  readonly length: number;
}

const MAX_SPARSE_REGIONS = 1 << 20;

function sparseError(problem: string): Error {
  return tarFormatError(`bad GNU sparse map: ${problem}`);
}

/** Checks a map against the file's real size (sorted, non-overlapping, inside the file). */
export function checkSparseMap(regions: readonly SparseRegion[], realSize: number): void {
  let previousEnd = 0;
  for (const r of regions) {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < 0 || r.length < 0) {
      throw sparseError(`region ${r.offset}+${r.length} is not a pair of non-negative integers`);
    }
    if (r.offset < previousEnd) throw sparseError(`regions overlap or are out of order at offset ${r.offset}`);
    previousEnd = r.offset + r.length;
    if (previousEnd > realSize) throw sparseError(`region ${r.offset}+${r.length} ends past the file size ${realSize}`);
  }
  if (regions.length > MAX_SPARSE_REGIONS) throw sparseError(`more than ${MAX_SPARSE_REGIONS} regions`);
}

/**
 * The old GNU (type `S`) map: 4 entries in the header at 386, then `isextended` at 482 and the real
 * size at 483; more entries follow in extension blocks of 21 (isextended at 504). An entry whose
 * offset field starts with NUL ends the list (as in GNU and BSD tar).
 */
export function oldGnuSparse(block: Buffer): { regions: SparseRegion[]; realSize: number; extended: boolean } {
  const realSize = parseNumeric(block, 483, 12);
  if (realSize === undefined || realSize < 0) throw sparseError('the real size field is not a number');
  const regions: SparseRegion[] = [];
  const extended = readSparseEntries(block, 386, 4, regions);
  return { regions, realSize, extended: extended && block[482] !== 0 };
}

/** Reads one extension block's entries into `regions`; true when another block follows. */
export function oldGnuSparseExtension(block: Buffer, regions: SparseRegion[]): boolean {
  return readSparseEntries(block, 0, 21, regions) && block[504] !== 0;
}

/** False when the list ended inside this block. */
function readSparseEntries(block: Buffer, start: number, count: number, regions: SparseRegion[]): boolean {
  for (let i = 0; i < count; i++) {
    const at = start + i * 24;
    if (block[at] === 0) return false;
    const offset = parseNumeric(block, at, 12);
    const length = parseNumeric(block, at + 12, 12);
    if (offset === undefined || length === undefined) throw sparseError('an entry is not a number');
    regions.push({ offset, length });
    if (regions.length > MAX_SPARSE_REGIONS) throw sparseError(`more than ${MAX_SPARSE_REGIONS} regions`);
  }
  return true;
}

function decimal(text: string, what: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n)) throw sparseError(`${what} "${text.slice(0, 40)}" is not a decimal number`);
  return n;
}

/** GNU PAX sparse 0.1 (`GNU.sparse.map`) or 0.0 (the same pairs from repeated offset/numbytes keys). */
export function paxSparseMap(pairs: readonly string[], numBlocks: string | undefined): SparseRegion[] {
  if (pairs.length % 2 !== 0) throw sparseError('an odd count of numbers');
  if (numBlocks !== undefined && decimal(numBlocks, 'GNU.sparse.numblocks') * 2 !== pairs.length) {
    throw sparseError(`GNU.sparse.numblocks says ${numBlocks} regions, the map has ${pairs.length / 2}`);
  }
  const regions: SparseRegion[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    regions.push({ offset: decimal(pairs[i] as string, 'an offset'), length: decimal(pairs[i + 1] as string, 'a length') });
  }
  return regions;
}

/**
 * GNU PAX sparse 1.0: the map at the start of the data, as newline-terminated decimals (count, then
 * offset/length pairs), padded to a block. Returns undefined while `data` (whole blocks read so
 * far) does not hold the complete map yet; otherwise the map and how many blocks it took.
 */
export function sparseMap1x0(data: Buffer): { regions: SparseRegion[]; blocks: number } | undefined {
  const numbers: string[] = [];
  let start = 0;
  let count: number | undefined;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0x0a) continue;
    numbers.push(data.toString('latin1', start, i));
    start = i + 1;
    if (count === undefined) {
      count = decimal(numbers[0] as string, 'the region count');
      if (count > MAX_SPARSE_REGIONS) throw sparseError(`more than ${MAX_SPARSE_REGIONS} regions`);
    }
    if (numbers.length === 1 + 2 * count) {
      return { regions: paxSparseMap(numbers.slice(1), undefined), blocks: Math.ceil(start / BLOCK) };
    }
  }
  return undefined;
}
