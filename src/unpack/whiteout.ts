/**
 * OCI/AUFS whiteout naming, pure (image-spec layer.md "Whiteouts").
 * Tiny and spec-shaped; no npm package models it apart from a whole extractor.
 */
import { baseName, joinPath, parentOf } from './entry-path.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** AUFS metadata (`.wh..wh.plnk`, `.wh..wh.aufs`, …) is never part of the image's filesystem. */
const AUFS_META_PREFIX = '.wh..wh.';

export type WhiteoutClass =
  | { kind: 'none' }
  /** Empty `dir` of everything lower layers put there. */
  | { kind: 'opaque'; dir: string }
  /** Remove `target` (and its subtree) as lower layers left it. */
  | { kind: 'whiteout'; target: string }
  /** AUFS bookkeeping or a whiteout naming nothing (`.wh.`, `.wh..`): skipped with a warning. */
  | { kind: 'ignored'; reason: string };

/** Classifies a normalised root-relative path (see normalizeEntryName). */
export function classifyWhiteout(path: string): WhiteoutClass {
  const name = baseName(path);
  if (!name.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  const dir = parentOf(path);
  if (name === OPAQUE_MARKER) return { kind: 'opaque', dir };
  if (name.startsWith(AUFS_META_PREFIX)) return { kind: 'ignored', reason: 'AUFS metadata entry' };
  const target = name.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') {
    return { kind: 'ignored', reason: 'whiteout naming no entry' };
  }
  return { kind: 'whiteout', target: joinPath(dir, target) };
}
