/**
 * Which tar entries of an artifact layer are artifact files, pure. An rpi artifact (luet pack of
 * `tar cvf build.tar build`) holds `build/<files>`; a v3.4+ `FROM scratch` artifact holds the same
 * files at the root. Only regular files directly in `build/` or at the root are written — never a
 * tree, never a link (artifacts are regular files) — so even an OS image named by mistake cannot
 * put a root filesystem on disk. Everything else is skipped and counted.
 */
import { normalizeEntryName, nameProblem } from '../unpack/entry-path.js';
import type { EntryKind } from '../unpack/entry-semantics.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo' | 'other';

export type EntryDecision =
  | { kind: 'file'; name: string; style: 'build' | 'scratch' }
  | { kind: 'skip'; reason: SkipReason; warn: boolean };

export type SkipReason = 'directory' | 'not-a-regular-file' | 'unsafe-name' | 'outside-build' | 'metadata';

/** What the tar walk says an entry creates → this module's vocabulary (shared with the luet tree's lstat). */
export function entryTypeOf(kind: EntryKind | undefined): EntryType {
  switch (kind) {
    case 'file':
      return 'file';
    case 'dir':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'hardlink':
      return 'link';
    case 'char-device':
      return 'character-device';
    case 'block-device':
      return 'block-device';
    case 'fifo':
      return 'fifo';
    case undefined:
      return 'other';
  }
}

export function classifyEntry(rawName: string, type: EntryType): EntryDecision {
  if (nameProblem(rawName) !== undefined || rawName.split('/').includes('..')) {
    return { kind: 'skip', reason: 'unsafe-name', warn: true };
  }
  const { path } = normalizeEntryName(rawName);
  if (path === '' || type === 'directory') return { kind: 'skip', reason: 'directory', warn: false };
  const parts = path.split('/');
  const inBuild = parts.length === 2 && parts[0] === 'build';
  const atRoot = parts.length === 1;
  if (!inBuild && !atRoot) return { kind: 'skip', reason: 'outside-build', warn: true };
  const name = parts[parts.length - 1] as string;
  // Docker/OCI layers may carry whiteouts; an artifact has nothing beneath it to delete.
  if (name.startsWith('.wh.')) return { kind: 'skip', reason: 'metadata', warn: true };
  if (type !== 'file') return { kind: 'skip', reason: 'not-a-regular-file', warn: true };
  return { kind: 'file', name, style: inBuild ? 'build' : 'scratch' };
}

export function describeSkip(reason: SkipReason): string {
  switch (reason) {
    case 'directory': return 'directory';
    case 'not-a-regular-file': return 'not a regular file (artifacts hold only regular files)';
    case 'unsafe-name': return 'unsafe name (".." or NUL, or not UTF-8)';
    case 'outside-build': return 'not directly in build/ or at the root';
    case 'metadata': return 'whiteout entry';
  }
}
