/**
 * The I/O edge of unpacking: every filesystem operation on the root goes through here, on paths
 * resolved by resolve-in-root.ts. It caches which paths are known real directories (so the parents
 * of most entries cost no syscall), forgets them whenever something is removed or replaced — by an
 * alias key, so case- or normalisation-folding filesystems cannot reuse a stale entry — and keeps
 * directory metadata to apply last (writing into a directory changes its mtime, and a read-only
 * mode would stop an unprivileged writer).
 *
 * Synchronous syscalls on purpose: one lstat/mkdir/symlink costs microseconds, far less than a
 * threadpool round trip, and decompression keeps running on the threadpool (zlib) or in another
 * process (zstd) meanwhile.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { KairosImgError } from '../errors.js';
import { aliasKey, isWithin, joinPath, splitPath } from './entry-path.js';
import type { EntryMeta, ExistingKind } from './entry-semantics.js';
import { resolveInRoot, type Lookup, type NodeInfo } from './resolve-in-root.js';

export interface RootWriter {
  readonly root: string;
  /** Absolute host path of a resolved root-relative path. */
  abs(path: string): string;
  lookup: Lookup;
  /**
   * Resolves a directory path inside the root (following symlinks as if the root were `/`) and
   * creates what is missing; returns the real root-relative path and the directories it created.
   */
  ensureDir(path: string): { path: string; created: string[] };
  /** Resolves a path's parent inside the root without creating anything; the last name is not followed. */
  resolveNoFollow(path: string): string;
  existing(path: string): ExistingKind;
  /** Removes whatever is at a resolved path (a subtree for a directory), forgetting cached facts. */
  remove(path: string): void;
  /** Removes the children of a resolved directory that `keep` rejects, recursing into kept directories. */
  clearLower(dir: string, keep: (childPath: string) => boolean): void;
  noteDir(path: string): void;
  deferDirMeta(path: string, meta: EntryMeta): void;
  /** Applies deferred directory modes and times, deepest first. Call once, after the last layer. */
  finish(): void;
}

export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export function createRootWriter(root: string): RootWriter {
  const realDirs = new Map<string, string>(); // exact path → alias key
  const aliasCounts = new Map<string, number>();
  const deferred = new Map<string, EntryMeta>();
  const abs = (path: string): string => (path === '' ? root : join(root, path));

  function noteDir(path: string): void {
    if (path === '' || realDirs.has(path)) return;
    const key = aliasKey(path);
    realDirs.set(path, key);
    aliasCounts.set(key, (aliasCounts.get(key) ?? 0) + 1);
  }

  function forget(path: string): void {
    const key = aliasKey(path);
    // Cached paths are ancestor-closed: if nothing aliases `path`, nothing under it is cached either.
    if (!aliasCounts.has(key)) return;
    for (const [p, k] of realDirs) {
      if (isWithin(k, key)) {
        realDirs.delete(p);
        const n = (aliasCounts.get(k) ?? 1) - 1;
        if (n <= 0) aliasCounts.delete(k);
        else aliasCounts.set(k, n);
      }
    }
  }

  function forgetDeferred(path: string): void {
    for (const p of deferred.keys()) if (isWithin(p, path)) deferred.delete(p);
  }

  const lookup: Lookup = (path) => {
    if (realDirs.has(path)) return { type: 'dir' };
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs(path));
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT') return { type: 'missing' };
      if (code === 'ENOTDIR') return { type: 'missing' };
      throw e;
    }
    if (st.isDirectory()) {
      noteDir(path);
      return { type: 'dir' };
    }
    if (st.isSymbolicLink()) return { type: 'symlink', target: fs.readlinkSync(abs(path), 'utf8') };
    return { type: 'other' } satisfies NodeInfo;
  };

  function ensureDir(path: string): { path: string; created: string[] } {
    const resolved = resolveInRoot(path, lookup);
    if (resolved.info.type === 'dir') return { path: resolved.path, created: [] };
    // Walk the real path: every component is a directory, missing, or a non-directory (refused).
    const created: string[] = [];
    let current = '';
    for (const part of splitPath(resolved.path)) {
      current = joinPath(current, part);
      const info = lookup(current);
      if (info.type === 'dir') continue;
      if (info.type === 'missing') {
        fs.mkdirSync(abs(current), { mode: 0o755 });
        noteDir(current);
        created.push(current);
        continue;
      }
      throw new KairosImgError('UNPACK_BAD_ENTRY', `layer puts an entry under "${current}", which is not a directory`, {
        details: { path },
      });
    }
    return { path: resolved.path, created };
  }

  function resolveNoFollow(path: string): string {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) return '';
    const parent = resolveInRoot(parts.join('/'), lookup);
    return joinPath(parent.path, name);
  }

  function existing(path: string): ExistingKind {
    if (path === '') return 'dir';
    if (realDirs.has(path)) return 'dir';
    try {
      const st = fs.lstatSync(abs(path));
      return st.isDirectory() ? 'dir' : 'other';
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
      throw e;
    }
  }

  function remove(path: string): void {
    if (path === '') throw new Error('refusing to remove the unpack root');
    const kind = existing(path);
    if (kind === 'none') return;
    if (kind === 'dir') {
      fs.rmSync(abs(path), { recursive: true, force: true });
      forgetDeferred(path);
    } else {
      fs.unlinkSync(abs(path));
      deferred.delete(path);
    }
    forget(path);
  }

  function clearLower(dir: string, keep: (childPath: string) => boolean): void {
    let names: string[];
    try {
      names = fs.readdirSync(abs(dir));
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return;
      throw e;
    }
    for (const name of names) {
      const child = joinPath(dir, name);
      if (!keep(child)) remove(child);
      else if (existing(child) === 'dir') clearLower(child, keep);
    }
  }

  function finish(): void {
    const paths = [...deferred.keys()].sort((a, b) => b.length - a.length);
    for (const path of paths) {
      const meta = deferred.get(path) as EntryMeta;
      // Re-resolve: apply only if the path is still a real directory reached without a symlink.
      const r = path === '' ? { path: '', info: { type: 'dir' } as NodeInfo } : resolveInRoot(path, lookup);
      if (r.path !== path || r.info.type !== 'dir') continue;
      const p = abs(path);
      fs.chmodSync(p, meta.mode);
      fs.utimesSync(p, meta.atime, meta.mtime);
    }
    deferred.clear();
  }

  return {
    root,
    abs,
    lookup,
    ensureDir,
    resolveNoFollow,
    existing,
    remove,
    clearLower,
    noteDir,
    deferDirMeta: (path, meta) => void deferred.set(path, meta),
    finish,
  };
}
