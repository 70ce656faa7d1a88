/**
 * The I/O edge of unpacking: every filesystem call of an unpack is made here, on paths resolved
 * by resolve-in-root.ts. It caches which paths are known real directories (so the parents of most
 * entries cost no syscall), forgets them whenever something is removed or replaced — by an alias
 * key, so case- or normalisation-folding filesystems cannot reuse a stale entry — and keeps
 * directory metadata to apply last (writing into a directory changes its mtime, and a read-only
 * mode would stop an unprivileged writer).
 *
 * What owners, device nodes and privileged xattrs do is decided once per writer by its `FsEval`
 * (umoci's fseval): the privileged one sets them, the unprivileged one skips and counts them; the
 * operations below never ask whether they run as root.
 *
 * Paths are bytes (latin1 strings, see entry-path.ts): every syscall gets them as a Buffer unless
 * they are ASCII, and the two programs run here (mknod, setfattr), whose arguments can only be
 * UTF-8, reach a name that is not through a temporary ASCII alias in the root.
 *
 * Synchronous syscalls on purpose: one lstat/mkdir/symlink costs microseconds, far less than a
 * threadpool round trip, and decompression keeps running on the threadpool (zlib) or in another
 * process (zstd) meanwhile.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { execaPackage } from '../lazy-packages.js';
import { KairosImgError } from '../errors.js';
import { hasProgram } from './decoder-process.js';
import { aliasKey, displayName, isAscii, joinPath, parentOf, splitPath } from './entry-path.js';
import { isHostOnlyXattr, isPrivilegedXattr, placementFor, type EntryKind, type EntryMeta, type ExistingKind } from './entry-semantics.js';
import { resolveInRoot, type Lookup, type NodeInfo } from './resolve-in-root.js';
import type { EntryBody } from './tar-walk.js';

/** Where a writer counts what it skipped and reports warnings (the current layer's). */
export interface WriteReport {
  skipped: { owners: number; devices: number; xattrs: number };
  /** One warning per `kind` is kept; later ones are counted. */
  warn(kind: string, text: string): void;
}

export type DeviceKind = 'char-device' | 'block-device' | 'fifo';

export interface RootWriterOptions {
  /** Set owners (and with root, device nodes and privileged xattrs). Default: true when running as root. */
  preserveOwners?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** The root's own mode, applied by `finish` unless a layer's `./` entry sets one. */
  rootMode?: number | undefined;
}

export interface RootWriter {
  readonly root: string;
  /** Absolute host path of a resolved root-relative path (a Buffer when the name is not ASCII). */
  abs(path: string): string | Buffer;
  lookup: Lookup;
  /** The current layer's report (skips and warnings go there). */
  startLayer(report: WriteReport): void;
  /**
   * Resolves a directory path inside the root (following symlinks as if the root were `/`) and
   * creates what is missing; returns the real root-relative path and the directories it created.
   */
  ensureDir(path: string): { path: string; created: string[] };
  /** Resolves a path's parent inside the root without creating anything; the last name is not followed. */
  resolveNoFollow(path: string): string;
  /** Resolves every component of a path inside the root, the last one included (a symlinked directory is followed). */
  resolve(path: string): string;
  existing(path: string): ExistingKind;
  /** Removes whatever is at a resolved path (a subtree for a directory), forgetting cached facts. */
  remove(path: string): void;
  /** Removes the children of a resolved directory that `keep` rejects, recursing into kept directories. */
  clearLower(dir: string, keep: (childPath: string) => boolean): void;

  /**
   * A regular file at a resolved path (replacing what is there); its content goes to the body, at
   * its offsets (a sparse file's holes stay holes); `size` is the file's final size.
   */
  file(path: string, meta: EntryMeta, size: number): EntryBody;
  /** A directory (merged with one that exists); its mode and times are applied by `finish`. */
  dir(path: string, meta: EntryMeta): void;
  /** The root's own owner and (at `finish`) mode and times, from a `./` entry. */
  rootDir(meta: EntryMeta): void;
  symlink(path: string, target: string, meta: EntryMeta): void;
  /** A hardlink to a resolved existing non-directory `target`. */
  hardlink(path: string, target: string): void;
  /** A device node or fifo; false when the strategy skipped it (counted and warned). */
  node(path: string, kind: DeviceKind, meta: EntryMeta, dev: { major: number; minor: number }): Promise<boolean>;
  /** The entry's extended attributes (those the strategy allows). */
  xattrs(path: string, xattrs: EntryMeta['xattrs']): Promise<void>;
  /** Applies deferred directory modes and times, deepest first. Call once, after the last layer. */
  finish(): void;
}

export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The privileged/unprivileged strategy, chosen once (umoci's fseval): what happens to an inode's
 * owner, whether device nodes are made, which xattrs are set.
 */
interface FsEval {
  /** `fresh`: the inode was just created by us, so it already has our uid and gid. */
  chown(meta: EntryMeta, fresh: boolean, set: (uid: number, gid: number) => void, report: WriteReport): void;
  mknod: boolean;
  xattr(name: string): boolean;
}

function createFsEval(opts: { preserveOwners: boolean; root: boolean; isOurs: (meta: EntryMeta) => boolean }): FsEval {
  const chown: FsEval['chown'] = opts.preserveOwners
    ? (meta, fresh, set) => {
        if (!(fresh && opts.isOurs(meta))) set(meta.uid, meta.gid);
      }
    : (meta, _fresh, _set, report) => {
        if (meta.uid !== 0 || meta.gid !== 0) report.skipped.owners++;
      };
  const privileged = opts.preserveOwners && opts.root;
  return { chown, mknod: privileged, xattr: privileged ? () => true : (name) => !isPrivilegedXattr(name) };
}

/** Writes are batched up to this many bytes per syscall; also the per-file memory bound. */
const WRITE_BATCH = 4 * 1024 * 1024;
const O_CREATE_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
const S_ISGID = 0o2000;

/** The process umask, read without changing it (process.umask() with no argument is deprecated). */
function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1] !== undefined) return parseInt(m[1], 8);
  } catch {
    // not Linux
  }
  return 0o777; // unknown: every mode is then set with fchmod
}

/**
 * Paths (or alias keys) in a tree, so that a path and everything under it are dropped in time
 * proportional to what is dropped — not to everything cached (N whiteouts of N directories were
 * quadratic: 80k took 70 s).
 */
function pathTree<V>() {
  const values = new Map<string, V>();
  const children = new Map<string, Set<string>>();
  return {
    values: values as ReadonlyMap<string, V>,
    get: (path: string): V | undefined => values.get(path),
    has: (path: string): boolean => values.has(path),
    set(path: string, value: V): void {
      values.set(path, value);
      for (let p = path; p !== ''; p = parentOf(p)) {
        const parent = parentOf(p);
        let c = children.get(parent);
        if (c === undefined) {
          c = new Set();
          children.set(parent, c);
        }
        if (c.has(p)) break; // its ancestors are linked already
        c.add(p);
      }
    },
    delete(path: string): void {
      values.delete(path);
    },
    /** Drops `path` and every path under it, calling `dropped` for each that had a value. */
    deleteSubtree(path: string, dropped?: (p: string, v: V) => void): void {
      const stack = [path];
      while (stack.length > 0) {
        const p = stack.pop() as string;
        const v = values.get(p);
        if (v !== undefined) {
          values.delete(p);
          dropped?.(p, v);
        }
        const c = children.get(p);
        if (c !== undefined) {
          for (const k of c) stack.push(k);
          children.delete(p);
        }
      }
      if (path !== '') children.get(parentOf(path))?.delete(path);
    },
    clear(): void {
      values.clear();
      children.clear();
    },
  };
}

const NO_REPORT: WriteReport = { skipped: { owners: 0, devices: 0, xattrs: 0 }, warn: () => undefined };

export function createRootWriter(root: string, opts: RootWriterOptions = {}): RootWriter {
  const realDirs = new Set<string>(); // exact paths known to be real directories
  const byAlias = pathTree<Set<string>>(); // alias key → the exact cached paths with that key
  const deferred = pathTree<EntryMeta>();
  const rootPrefix = Buffer.from(`${root}/`);
  const abs = (path: string): string | Buffer => {
    if (path === '') return root;
    return isAscii(path) ? `${root}/${path}` : Buffer.concat([rootPrefix, Buffer.from(path, 'latin1')]);
  };
  const signal = opts.signal;
  let report = NO_REPORT;

  // Saved syscalls per created file or symlink (tens of thousands in a rootfs): open(2) sets the
  // mode when the umask keeps its bits, and a new inode already has our uid and gid — unless its
  // directory is setgid, which the directories we make are only when the root is (the bit is
  // inherited; the layers' own directory modes are applied at the end).
  const umask = currentUmask();
  const euid = process.geteuid?.() ?? -1;
  const egid = process.getegid?.() ?? -1;
  const rootSetgid = (fs.statSync(root).mode & S_ISGID) !== 0;
  const fsEval = createFsEval({
    preserveOwners: opts.preserveOwners ?? isRoot(),
    root: isRoot(),
    isOurs: (meta) => !rootSetgid && meta.uid === euid && meta.gid === egid,
  });

  function noteDir(path: string): void {
    if (path === '' || realDirs.has(path)) return;
    realDirs.add(path);
    const key = aliasKey(path);
    const same = byAlias.get(key);
    if (same === undefined) byAlias.set(key, new Set([path]));
    else same.add(path);
  }

  /** Forgets every cached directory whose alias key is `path`'s or lies under it. */
  function forget(path: string): void {
    byAlias.deleteSubtree(aliasKey(path), (_key, paths) => {
      for (const p of paths) realDirs.delete(p);
    });
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
    if (st.isSymbolicLink()) return { type: 'symlink', target: fs.readlinkSync(abs(path), { encoding: 'buffer' }).toString('latin1') };
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
      throw new KairosImgError('UNPACK_BAD_ENTRY', `layer puts an entry under "${displayName(current)}", which is not a directory`, {
        hint: 'the layer is malformed or malicious; nothing was written outside the target directory',
        details: { path: displayName(path) },
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

  function resolve(path: string): string {
    return resolveInRoot(path, lookup).path;
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
      deferred.deleteSubtree(path);
    } else {
      fs.unlinkSync(abs(path));
      deferred.delete(path);
    }
    forget(path);
  }

  function clearLower(dir: string, keep: (childPath: string) => boolean): void {
    let names: string[];
    try {
      names = fs.readdirSync(abs(dir), { encoding: 'buffer' }).map((b) => b.toString('latin1'));
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

  /** Creates via `create`; on EEXIST consults the placement rule, removes what is there, retries. */
  function place(path: string, kind: EntryKind, create: () => void): 'created' | 'merged' {
    try {
      create();
      return 'created';
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
    }
    if (placementFor(existing(path), kind) === 'merge-dir') return 'merged';
    remove(path);
    create();
    return 'created';
  }

  function file(path: string, meta: EntryMeta, size: number): EntryBody {
    let fd = -1;
    place(path, 'file', () => {
      fd = fs.openSync(abs(path), O_CREATE_FILE, meta.mode & 0o777);
    });
    // Contiguous chunks are gathered into one pwritev; a jump in offsets (a hole) flushes.
    let batch: Buffer[] = [];
    let batched = 0;
    let batchAt = 0;
    let written = 0;
    const flush = (): void => {
      if (batched === 0) return;
      let done = fs.writevSync(fd, batch, batchAt);
      // A short write (rare: a signal, a full disk on the way) continues where it stopped.
      while (done < batched) {
        const rest = Buffer.concat(batch).subarray(done);
        done += fs.writeSync(fd, rest, 0, rest.length, batchAt + done);
      }
      written = Math.max(written, batchAt + batched);
      batch = [];
      batched = 0;
    };
    let open = true;
    const close = (): void => {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
    };
    return {
      write(chunk, offset) {
        if (batched > 0 && offset !== batchAt + batched) flush();
        if (batched === 0) batchAt = offset;
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) flush();
      },
      abort: close,
      end() {
        try {
          flush();
          // A sparse file ending in a hole: the size without writing the zeros.
          if (size > written) fs.ftruncateSync(fd, size);
          fsEval.chown(meta, true, (u, g) => fs.fchownSync(fd, u, g), report);
          // After chown (which clears setuid/setgid), when the umask took bits or there are special ones.
          if ((meta.mode & 0o7000) !== 0 || (meta.mode & umask) !== 0) fs.fchmodSync(fd, meta.mode);
          fs.futimesSync(fd, meta.atime, meta.mtime);
        } finally {
          close();
        }
      },
    };
  }

  function dir(path: string, meta: EntryMeta): void {
    const p = abs(path);
    place(path, 'dir', () => fs.mkdirSync(p, { mode: 0o755 }));
    noteDir(path);
    fsEval.chown(meta, false, (u, g) => fs.lchownSync(p, u, g), report);
    deferred.set(path, meta);
  }

  function rootDir(meta: EntryMeta): void {
    fsEval.chown(meta, false, (u, g) => fs.lchownSync(root, u, g), report);
    deferred.set('', meta);
  }

  function symlink(path: string, target: string, meta: EntryMeta): void {
    const p = abs(path);
    const to = Buffer.from(target, 'latin1');
    place(path, 'symlink', () => fs.symlinkSync(to, p));
    fsEval.chown(meta, true, (u, g) => fs.lchownSync(p, u, g), report);
    fs.lutimesSync(p, meta.atime, meta.mtime);
  }

  function hardlink(path: string, target: string): void {
    place(path, 'hardlink', () => fs.linkSync(abs(target), abs(path)));
  }

  /**
   * Runs `run` with a UTF-8 host path for the resolved `path` (program arguments are UTF-8 text):
   * the path itself when it is valid UTF-8, else a temporary ASCII alias in the root (a hardlink,
   * or for a directory a rename there and back).
   */
  async function withArgPath(path: string, kind: 'dir' | 'other' | 'new', run: (argPath: string) => Promise<void>): Promise<void> {
    const bytes = Buffer.from(path, 'latin1');
    if (isUtf8(bytes)) return run(path === '' ? root : `${root}/${bytes.toString('utf8')}`);
    const alias = `.kairos-img-alias-${randomBytes(6).toString('hex')}`;
    const aliasPath = `${root}/${alias}`;
    if (kind === 'new') {
      await run(aliasPath);
      fs.renameSync(aliasPath, abs(path));
      return;
    }
    if (kind === 'dir') fs.renameSync(abs(path), aliasPath);
    else fs.linkSync(abs(path), aliasPath);
    try {
      await run(aliasPath);
    } finally {
      if (kind === 'dir') fs.renameSync(aliasPath, abs(path));
      else fs.unlinkSync(aliasPath);
    }
  }

  async function node(path: string, kind: DeviceKind, meta: EntryMeta, dev: { major: number; minor: number }): Promise<boolean> {
    if (kind !== 'fifo' && !fsEval.mknod) {
      report.skipped.devices++;
      report.warn('device', `device node "${displayName(path)}" skipped (needs root and owner preservation)`);
      return false;
    }
    const p = abs(path);
    const mode = (meta.mode & 0o777).toString(8);
    const args = kind === 'fifo' ? ['p'] : [kind === 'char-device' ? 'c' : 'b', String(dev.major), String(dev.minor)];
    if (existing(path) !== 'none') remove(path);
    await withArgPath(path, 'new', async (argPath) => {
      const { execa } = await execaPackage();
      await execa('mknod', ['-m', mode, '--', argPath, ...args], signal ? { cancelSignal: signal } : {});
    });
    fsEval.chown(meta, false, (u, g) => fs.lchownSync(p, u, g), report);
    fs.chmodSync(p, meta.mode);
    fs.utimesSync(p, meta.atime, meta.mtime);
    return true;
  }

  async function xattrs(path: string, list: EntryMeta['xattrs']): Promise<void> {
    for (const x of list) {
      if (isHostOnlyXattr(x.name) || !fsEval.xattr(x.name)) {
        report.skipped.xattrs++;
        continue;
      }
      const nameBytes = Buffer.from(x.name, 'latin1');
      const problem = !isUtf8(nameBytes) ? 'its name is not UTF-8' : !(await hasProgram('setfattr')) ? 'setfattr not installed' : undefined;
      if (problem !== undefined) {
        report.skipped.xattrs++;
        report.warn('xattr', `extended attribute ${displayName(x.name)} on "${displayName(path)}" not set (${problem})`);
        continue;
      }
      // Values are bytes: passed base64-encoded (`0s…`), so binary values arrive intact.
      const args = ['-h', '-n', nameBytes.toString('utf8'), '-v', `0s${x.value.toString('base64')}`, '--'];
      await withArgPath(path, existing(path) === 'dir' ? 'dir' : 'other', async (argPath) => {
        const { execa } = await execaPackage();
        await execa('setfattr', [...args, argPath], signal ? { cancelSignal: signal } : {});
      });
    }
  }

  function finish(): void {
    if (opts.rootMode !== undefined) fs.chmodSync(root, opts.rootMode);
    const paths = [...deferred.values.keys()].sort((a, b) => b.length - a.length);
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
    startLayer: (r) => {
      report = r;
    },
    ensureDir,
    resolveNoFollow,
    resolve,
    existing,
    remove,
    clearLower,
    file,
    dir,
    rootDir,
    symlink,
    hardlink,
    node,
    xattrs,
    finish,
  };
}
