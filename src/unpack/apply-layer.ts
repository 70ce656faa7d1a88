/**
 * One layer (a tar stream) applied to an existing root: entries in order, whiteouts per the OCI
 * spec, every path resolved inside the root by root-writer.ts. tar-stream does the parsing (it hands
 * us raw headers, PAX and GNU long names included, and leaves every filesystem decision to us — the
 * reason it is used instead of node-tar's extractor).
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import tar from 'tar-stream';
import { interrupted, isAbortError, KairosImgError } from '../errors.js';
import { baseName, nameProblem, normalizeEntryName, parentOf } from './entry-path.js';
import {
  childSurvivesOpaque,
  entryKindOf,
  entryMeta,
  isPrivilegedXattr,
  placementFor,
  whiteoutAction,
  type EntryKind,
  type EntryMeta,
} from './entry-semantics.js';
import { asReadable, layerToTarStream, type ZstdDecoder } from './decompress.js';
import { createRootWriter, errnoOf, type RootWriter } from './root-writer.js';
import { classifyWhiteout } from './whiteout.js';

export interface LayerStats {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  whiteouts: number;
  /** Bytes of regular-file content written. */
  bytes: number;
  skipped: { owners: number; devices: number; xattrs: number };
  warnings: string[];
}

export interface ApplyLayerOptions {
  /** An existing directory. */
  root: string;
  /** The layer blob (compressed or not) or a plain tar stream. */
  stream: NodeJS.ReadableStream | Readable;
  /** A layer media type, or 'auto' (plain, gzip or zstd tar told by its magic bytes). */
  mediaType: string;
  signal?: AbortSignal | undefined;
  /** Default: true when running as root. */
  preserveOwners?: boolean | undefined;
  /** Interpret `.wh.*` entries (OCI layers: true). A flattened filesystem export has none: false. */
  whiteouts?: boolean | undefined;
  /**
   * Shares caches and deferred directory metadata across the layers of one unpack. When given, the
   * caller calls `writer.finish()` after the last layer; when absent, this call finishes its own.
   */
  writer?: RootWriter | undefined;
  /** Names the layer in errors and warnings. */
  label?: string | undefined;
  onProgress?: ((e: { bytes: number; entries: number }) => void) | undefined;
  zstd?: ZstdDecoder | undefined;
}

type TarEntry = AsyncIterable<Buffer> & { header: tar.Header };

const MAX_WARNINGS = 50;
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

export function emptyStats(): LayerStats {
  return {
    entries: 0,
    files: 0,
    dirs: 0,
    symlinks: 0,
    hardlinks: 0,
    whiteouts: 0,
    bytes: 0,
    skipped: { owners: 0, devices: 0, xattrs: 0 },
    warnings: [],
  };
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function badEntry(label: string, name: string, problem: string): KairosImgError {
  return new KairosImgError('UNPACK_BAD_ENTRY', `${label}: entry "${name.replaceAll('\u0000', '\\0')}": ${problem}`, {
    hint: 'the layer is malformed or malicious; nothing was written outside the target directory',
    details: { entry: name },
  });
}

let setfattrAvailable: Promise<boolean> | undefined;
function hasSetfattr(): Promise<boolean> {
  setfattrAvailable ??= execa('setfattr', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  return setfattrAvailable;
}

export async function applyLayer(opts: ApplyLayerOptions): Promise<LayerStats> {
  const label = opts.label ?? 'layer';
  const signal = opts.signal;
  const preserveOwners = opts.preserveOwners ?? isRoot();
  const privileged = isRoot();
  const interpretWhiteouts = opts.whiteouts ?? true;
  const ownWriter = opts.writer === undefined;
  const w = opts.writer ?? createRootWriter(opts.root);
  const stats = emptyStats();
  const layerPaths = new Set<string>();
  const warnCounts = new Map<string, number>();
  let compressedBytes = 0;
  let reportedBytes = -1; // progress is reported once per blob chunk read, not per entry
  // Saved syscalls per created file or symlink (tens of thousands in a rootfs): open(2) sets the
  // mode when the umask keeps its bits, and a new inode already has our uid and gid — unless its
  // directory is setgid, which the directories we make are only when the root is (the bit is
  // inherited; the layers' own directory modes are applied at the end).
  const umask = currentUmask();
  const euid = process.geteuid?.() ?? -1;
  const egid = process.getegid?.() ?? -1;
  const rootSetgid = (fs.statSync(w.root).mode & S_ISGID) !== 0;
  const isOurs = (meta: EntryMeta): boolean => !rootSetgid && meta.uid === euid && meta.gid === egid;

  const warn = (kind: string, text: string): void => {
    const n = (warnCounts.get(kind) ?? 0) + 1;
    warnCounts.set(kind, n);
    if (n === 1 && stats.warnings.length < MAX_WARNINGS) stats.warnings.push(`${label}: ${text}`);
  };
  // Ancestor-closed: stop at the first ancestor already recorded.
  const markLayer = (path: string): void => {
    for (let p = path; p !== '' && !layerPaths.has(p); p = parentOf(p)) layerPaths.add(p);
  };

  signal?.throwIfAborted();
  const tarStream = await layerToTarStream({
    stream: asReadable(opts.stream),
    mediaType: opts.mediaType,
    signal,
    label,
    zstd: opts.zstd,
    onBytes: (n) => {
      compressedBytes = n;
    },
  });
  const extract = tar.extract();
  const feeding = pipeline(tarStream, extract, ...(signal ? [{ signal }] : []));
  feeding.catch(() => undefined); // surfaced through the iterator below, or awaited at the end

  /** Creates via `create`; on EEXIST consults the placement rule, removes what is there, retries. */
  const place = (path: string, kind: EntryKind, create: () => void): 'created' | 'merged' => {
    try {
      create();
      return 'created';
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
    }
    const placement = placementFor(w.existing(path), kind);
    if (placement === 'merge-dir') return 'merged';
    w.remove(path);
    create();
    return 'created';
  };

  const applyOwner = (meta: EntryMeta, chown: (uid: number, gid: number) => void, created = false): void => {
    if (preserveOwners) {
      if (!(created && isOurs(meta))) chown(meta.uid, meta.gid);
    } else if (meta.uid !== 0 || meta.gid !== 0) stats.skipped.owners++;
  };

  const applyXattrs = async (path: string, meta: EntryMeta): Promise<void> => {
    for (const x of meta.xattrs) {
      if ((!preserveOwners || !privileged) && isPrivilegedXattr(x.name)) {
        stats.skipped.xattrs++;
        continue;
      }
      // tar-stream decodes PAX values as UTF-8: a binary value that was not valid UTF-8 is lost.
      if (x.value.includes('\uFFFD') || !(await hasSetfattr())) {
        stats.skipped.xattrs++;
        warn('xattr', `extended attribute ${x.name} on "${path}" not set (${x.value.includes('\uFFFD') ? 'binary value not representable' : 'setfattr not installed'})`);
        continue;
      }
      const value = `0s${Buffer.from(x.value, 'utf8').toString('base64')}`;
      await execa('setfattr', ['-h', '-n', x.name, '-v', value, '--', w.abs(path)], signal ? { cancelSignal: signal } : {});
    }
  };

  const writeFile = async (path: string, entry: TarEntry, meta: EntryMeta): Promise<void> => {
    let fd = -1;
    place(path, 'file', () => {
      fd = fs.openSync(w.abs(path), O_CREATE_FILE, meta.mode & 0o777);
    });
    try {
      let batch: Buffer[] = [];
      let batched = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) {
          fs.writevSync(fd, batch);
          stats.bytes += batched;
          batch = [];
          batched = 0;
        }
      }
      if (batched > 0) {
        fs.writevSync(fd, batch);
        stats.bytes += batched;
      }
      applyOwner(meta, (u, g) => fs.fchownSync(fd, u, g), true);
      // After chown (which clears setuid/setgid), when the umask took bits or there are special ones.
      if ((meta.mode & 0o7000) !== 0 || (meta.mode & umask) !== 0) fs.fchmodSync(fd, meta.mode);
      fs.futimesSync(fd, meta.atime, meta.mtime);
    } finally {
      fs.closeSync(fd);
    }
  };

  const drain = async (entry: TarEntry): Promise<void> => {
    for await (const _ of entry as AsyncIterable<Buffer>) {
      // discard
    }
  };

  try {
    for await (const entry of extract as AsyncIterable<TarEntry>) {
      if (signal?.aborted) throw interrupted();
      const h = entry.header as tar.Header & { pax?: Record<string, string> | null };
      stats.entries++;
      const problem = nameProblem(h.name);
      if (problem) throw badEntry(label, h.name, problem === 'empty' ? 'empty name' : 'name contains a NUL byte');
      const { path: name, contained } = normalizeEntryName(h.name);
      if (contained) warn('contained', `entry "${h.name}" names a path outside the root; written as "/${name}" inside it`);
      const kind = entryKindOf(h.type);
      if (kind === undefined) {
        warn(`type:${h.type}`, `entry "${h.name}" of type ${String(h.type)} skipped`);
        await drain(entry);
        continue;
      }

      if (interpretWhiteouts) {
        const wh = classifyWhiteout(name);
        if (wh.kind !== 'none') {
          await drain(entry);
          if (wh.kind === 'ignored') {
            warn('whiteout-ignored', `entry "${h.name}" skipped (${wh.reason})`);
            continue;
          }
          stats.whiteouts++;
          if (wh.kind === 'opaque') {
            const dir = w.resolveNoFollow(wh.dir);
            if (w.existing(dir) === 'dir') w.clearLower(dir, (c) => childSurvivesOpaque(c, layerPaths));
            continue;
          }
          const target = w.resolveNoFollow(wh.target);
          if (target === '') continue;
          const existing = w.existing(target);
          const action = whiteoutAction(target, existing, layerPaths);
          if (action === 'remove') w.remove(target);
          else if (action === 'clear-lower-content') w.clearLower(target, (c) => childSurvivesOpaque(c, layerPaths));
          continue;
        }
      }

      const meta = entryMeta(h, kind);
      if (name === '') {
        if (kind === 'dir') {
          applyOwner(meta, (u, g) => fs.lchownSync(w.root, u, g));
          w.deferDirMeta('', meta);
        } else warn('root', `entry "${h.name}" would replace the root with a ${kind}; skipped`);
        await drain(entry);
        continue;
      }

      const parent = w.ensureDir(parentOf(name));
      for (const c of parent.created) markLayer(c);
      const path = parent.path === '' ? baseName(name) : `${parent.path}/${baseName(name)}`;
      markLayer(path);
      const abs = w.abs(path);

      switch (kind) {
        case 'file':
          await writeFile(path, entry, meta);
          stats.files++;
          break;
        case 'dir': {
          place(path, 'dir', () => fs.mkdirSync(abs, { mode: 0o755 }));
          w.noteDir(path);
          applyOwner(meta, (u, g) => fs.lchownSync(abs, u, g));
          w.deferDirMeta(path, meta);
          stats.dirs++;
          await drain(entry);
          break;
        }
        case 'symlink': {
          const target = h.linkname ?? '';
          if (target === '' || target.includes('\u0000')) throw badEntry(label, h.name, 'symlink with an empty or NUL-containing target');
          place(path, 'symlink', () => fs.symlinkSync(target, abs));
          applyOwner(meta, (u, g) => fs.lchownSync(abs, u, g), true);
          fs.lutimesSync(abs, meta.atime, meta.mtime);
          stats.symlinks++;
          await drain(entry);
          break;
        }
        case 'hardlink': {
          const linkname = h.linkname ?? '';
          const lp = nameProblem(linkname);
          if (lp) throw badEntry(label, h.name, `hardlink with ${lp === 'empty' ? 'an empty' : 'a NUL-containing'} target`);
          const normalized = normalizeEntryName(linkname);
          if (normalized.contained) warn('contained-link', `hardlink "${h.name}" → "${linkname}" names a path outside the root; resolved inside it`);
          // The target's parents are resolved inside the root; its last component is not followed
          // (link(2) does not follow it either), so a link can only ever share an inode in the root.
          const target = w.resolveNoFollow(normalized.path);
          const tk = w.existing(target);
          if (target === '' || tk === 'dir') throw badEntry(label, h.name, `hardlink to a directory ("${linkname}")`);
          if (tk === 'none') throw badEntry(label, h.name, `hardlink target "${linkname}" does not exist`);
          if (target !== path) {
            place(path, 'hardlink', () => fs.linkSync(w.abs(target), abs));
          }
          stats.hardlinks++;
          await drain(entry);
          break;
        }
        case 'char-device':
        case 'block-device':
        case 'fifo': {
          await drain(entry);
          if (kind !== 'fifo' && (!preserveOwners || !privileged)) {
            stats.skipped.devices++;
            warn('device', `device node "${h.name}" skipped (needs root and owner preservation)`);
            continue;
          }
          const mode = (meta.mode & 0o777).toString(8);
          const args = kind === 'fifo' ? ['p'] : [kind === 'char-device' ? 'c' : 'b', String(h.devmajor ?? 0), String(h.devminor ?? 0)];
          if (w.existing(path) !== 'none') w.remove(path);
          await execa('mknod', ['-m', mode, '--', abs, ...args], signal ? { cancelSignal: signal } : {});
          applyOwner(meta, (u, g) => fs.lchownSync(abs, u, g));
          fs.chmodSync(abs, meta.mode);
          fs.utimesSync(abs, meta.atime, meta.mtime);
          stats.files++;
          break;
        }
      }
      if (meta.xattrs.length > 0 && kind !== 'hardlink') await applyXattrs(path, meta);
      if (opts.onProgress && compressedBytes !== reportedBytes) {
        reportedBytes = compressedBytes;
        opts.onProgress({ bytes: compressedBytes, entries: stats.entries });
      }
    }
    await feeding;
  } catch (e) {
    extract.destroy();
    tarStream.destroy();
    await feeding.catch(() => undefined);
    throw wrapLayerError(e, label, signal);
  }
  if (ownWriter) w.finish();
  opts.onProgress?.({ bytes: compressedBytes, entries: stats.entries });
  for (const [kind, n] of warnCounts) {
    if (n > 1 && stats.warnings.length < MAX_WARNINGS) stats.warnings.push(`${label}: ${n} entries like the above (${kind})`);
  }
  return stats;
}

function wrapLayerError(e: unknown, label: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted || isAbortError(e)) return interrupted();
  if (e instanceof KairosImgError) return e;
  const code = errnoOf(e);
  // Filesystem failures (ENOSPC, EACCES…) are the host's problem; everything else came from the stream.
  if (code !== undefined && !code.startsWith('Z_') && code !== 'ERR_STREAM_PREMATURE_CLOSE') {
    return new KairosImgError('UNPACK_WRITE_FAILED', `${label}: ${(e as Error).message}`, { cause: e });
  }
  return new KairosImgError('UNPACK_LAYER_CORRUPT', `${label}: ${(e as Error).message ?? String(e)}`, {
    hint: 'the layer is not a valid tar stream; remove it from the cache and pull again',
    cause: e,
  });
}
