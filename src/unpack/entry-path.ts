/**
 * Tar entry names → root-relative paths, pure. Names are bytes: a name is a latin1 string (one
 * char per byte, as the tar walk gives it), so no two byte sequences ever become one name.
 * Written here rather than taken from npm: node-tar's own path stripping is tied to its extractor
 * (and is where CVE-2021-32804/37712 lived); we need the containerd rule — clean the name as if it
 * were absolute, so `..` can never climb above the root and `/etc/x` means `<root>/etc/x` — plus a
 * flag telling the caller a name had to be contained, so it can warn.
 */

export interface NormalizedName {
  /** Root-relative path with single `/` separators, no `.`/`..`, no leading or trailing `/`; '' is the root. */
  readonly path: string;
  /** True when the name was absolute or climbed above the root with `..` and was clamped to the root. */
  readonly contained: boolean;
}

export type NameProblem = 'empty' | 'nul-byte';

export function nameProblem(name: string): NameProblem | undefined {
  if (name.length === 0) return 'empty';
  // Kernel paths end at NUL; a name carrying one would mean something else to every syscall.
  if (name.includes('\u0000')) return 'nul-byte';
  return undefined;
}

/** Linux's NAME_MAX and PATH_MAX (the latter counts the terminating NUL). */
const NAME_MAX = 255;
const PATH_MAX = 4096;

/** True when a normalized root-relative byte path cannot exist under `root` (a host path, UTF-8). */
export function nameTooLong(path: string, root: string): boolean {
  if (Buffer.byteLength(root) + 1 + path.length >= PATH_MAX) return true;
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    const end = slash < 0 ? path.length : slash;
    if (end - start > NAME_MAX) return true;
    if (slash < 0) return false;
    start = slash + 1;
  }
}

/** Splits and cleans a path lexically, clamping `..` at the root; reports whether any clamping happened. */
export function normalizeEntryName(name: string): NormalizedName {
  const out: string[] = [];
  let contained = name.startsWith('/');
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) contained = true;
      else out.pop();
      continue;
    }
    out.push(part);
  }
  return { path: out.join('/'), contained };
}

export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every proper ancestor of a root-relative path, nearest the root first ('' excluded). */
export function ancestorsOf(path: string): string[] {
  const parts = splitPath(path);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** True when `path` is `base` or lies under it. */
export function isWithin(path: string, base: string): boolean {
  if (base === '') return true;
  return path === base || path.startsWith(`${base}/`);
}

/**
 * A conservative alias key: on case-insensitive or normalisation-insensitive filesystems two
 * different names can reach the same inode (node-tar CVE-2021-37712). Caches keyed by exact name are
 * invalidated by this key so that `A` replaced by a symlink also forgets a cached real directory `a`.
 * Folding more than the filesystem does only costs an extra lstat; folding less would be unsafe.
 */
export function aliasKey(path: string): string {
  // Folding applies to the characters the filesystem sees: the bytes decoded as UTF-8 (an invalid
  // sequence becomes U+FFFD, which only folds more).
  if (isAscii(path)) return path.toLowerCase();
  return fromBytes(path).normalize('NFKD').toUpperCase().toLowerCase().normalize('NFKD');
}

/** Any character above U+007F (names are latin1 byte strings or text). */
const NON_ASCII = /[\u0080-\uffff]/;

export function isAscii(name: string): boolean {
  return !NON_ASCII.test(name);
}

/** A JS string (UTF-8 text) as a byte name. */
export function toBytes(text: string): string {
  return isAscii(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** A byte name as text, invalid UTF-8 replaced (for APIs that speak text; never for a syscall). */
export function fromBytes(name: string): string {
  return isAscii(name) ? name : Buffer.from(name, 'latin1').toString('utf8');
}

/** Longest part of a name quoted in a message. */
const DISPLAY_MAX = 200;

/**
 * A byte name for messages: valid UTF-8 as is, other bytes and control characters as `\xNN`,
 * cut to 200 characters and "…".
 */
export function displayName(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length && out.length < DISPLAY_MAX) {
    const b = name.charCodeAt(i);
    if (b < 0x80) {
      out += b < 0x20 || b === 0x7f ? hex(b) : name[i];
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const seq = len === 0 ? undefined : validSequence(name, i, len);
    if (seq === undefined) {
      out += hex(b);
      i++;
    } else {
      out += seq;
      i += len;
    }
  }
  return i < name.length ? `${out.slice(0, DISPLAY_MAX)}…` : out;
}

function hex(b: number): string {
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

function validSequence(name: string, at: number, len: number): string | undefined {
  if (at + len > name.length) return undefined;
  for (let k = 1; k < len; k++) {
    const c = name.charCodeAt(at + k);
    if (c < 0x80 || c > 0xbf) return undefined;
  }
  const text = Buffer.from(name.slice(at, at + len), 'latin1').toString('utf8');
  // Overlong forms, surrogates and values above U+10FFFF decode to U+FFFD: show their bytes.
  return text.length === 0 || text.includes('\ufffd') ? undefined : text;
}
