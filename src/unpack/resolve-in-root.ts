/**
 * Path resolution inside a root, following symlinks as if the root were `/` — the algorithm of
 * Go's securejoin (used by umoci and runc) and containerd's RootPath — written as a pure function
 * over an injected lookup so every case is unit tested without a filesystem. No npm package does
 * this: node-tar checks paths lexically plus a symlink cache, the design that produced its CVEs.
 *
 * The result names only real components (no symlink left in it, `..` never above the root), so a
 * syscall on `<root>/<result>` cannot leave the root as long as nothing else writes the tree
 * concurrently (single writer; moby-style races are out of scope).
 */
import { KairosImgError } from '../errors.js';
import { displayName, joinPath, splitPath } from './entry-path.js';

export type NodeInfo =
  | { type: 'missing' }
  | { type: 'dir' }
  | { type: 'symlink'; target: string }
  /** A file, device, fifo, …: nothing can be under it. */
  | { type: 'other' };

export type Lookup = (rootRelativePath: string) => NodeInfo;

/** Linux's own limit on symlinks followed in one resolution (MAXSYMLINKS is 40; securejoin allows 255). */
export const MAX_SYMLINKS = 255;

export interface Resolved {
  /** Root-relative, symlink-free path. */
  path: string;
  /** What is at `path` (after the last symlink was followed). */
  info: NodeInfo;
}

/**
 * Resolves every component of `path` (root-relative, or a symlink target relative to the root),
 * following symlinks — including one in the last component — and clamping `..` at the root.
 */
export function resolveInRoot(path: string, lookup: Lookup): Resolved {
  const current: string[] = [];
  let currentInfo: NodeInfo = { type: 'dir' };
  const queue = splitPath(path).filter((p) => p !== '');
  let followed = 0;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '.' || part === '') continue;
    if (part === '..') {
      current.pop();
      // Whatever is at the parent is a real directory or missing; re-look it up lazily.
      currentInfo = current.length === 0 ? { type: 'dir' } : lookup(current.join('/'));
      continue;
    }
    if (currentInfo.type === 'missing' || currentInfo.type === 'other') {
      // Nothing exists below a missing or non-directory node: the rest is taken lexically,
      // still clamped, and reported as missing so the caller decides (mkdir, or refuse).
      current.push(part);
      currentInfo = { type: 'missing' };
      continue;
    }
    const candidate = joinPath(current.join('/'), part);
    const info = lookup(candidate);
    if (info.type === 'symlink') {
      followed++;
      if (followed > MAX_SYMLINKS) {
        throw new KairosImgError('UNPACK_SYMLINK_LOOP', `too many levels of symbolic links resolving "${displayName(path)}" inside the root`, {
          hint: 'the layers hold a symlink loop (e.g. a → b, b → a, or `etc → /etc`, which inside the root points at itself); an entry under it cannot be placed',
        });
      }
      // An absolute target restarts from the root — the root, never the host's `/`.
      if (info.target.startsWith('/')) {
        current.length = 0;
        currentInfo = { type: 'dir' };
      }
      queue.unshift(...splitPath(info.target).filter((p) => p !== ''));
      continue;
    }
    current.push(part);
    currentInfo = info;
  }
  return { path: current.join('/'), info: currentInfo };
}
