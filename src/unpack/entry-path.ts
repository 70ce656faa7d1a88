/**
 * Tar entry names → root-relative paths, pure.
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
  return path.normalize('NFKD').toUpperCase().toLowerCase().normalize('NFKD');
}
