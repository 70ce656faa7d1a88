/**
 * One layer (a tar stream) applied to an existing root: entries in order, whiteouts per the OCI
 * spec. Only layer semantics live here; the tar walk (tar-walk.ts) reads the entries and the root
 * writer (root-writer.ts) makes every filesystem call, on paths it resolves inside the root.
 */
import type { Readable } from 'node:stream';
import { KairosImgError } from '../errors.js';
import { baseName, displayName, nameProblem, nameTooLong, normalizeEntryName, parentOf } from './entry-path.js';
import { childSurvivesOpaque, whiteoutAction } from './entry-semantics.js';
import type { ZstdDecoder } from './decompress.js';
import { createRootWriter, isRoot, type RootWriter, type WriteReport } from './root-writer.js';
import { walkTar, type EntryBody, type TarEntry } from './tar-walk.js';
import { classifyWhiteout } from './whiteout.js';

export { isRoot };

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
  /** Default: true when running as root. Used when this call creates its own writer. */
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

const MAX_WARNINGS = 50;

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

function badEntry(label: string, name: string, problem: string, hint = 'the layer is malformed or malicious; nothing was written outside the target directory'): KairosImgError {
  return new KairosImgError('UNPACK_BAD_ENTRY', `${label}: entry "${displayName(name)}": ${problem}`, {
    hint,
    details: { entry: displayName(name) },
  });
}

const TOO_LONG_HINT = 'Linux limits a name to 255 bytes and a path to 4095; the layer cannot be unpacked as it is (GNU tar fails on it too)';

/** Counts a file's content bytes on their way to the writer. */
function counted(body: EntryBody, stats: LayerStats): EntryBody {
  return {
    write(chunk, offset) {
      stats.bytes += chunk.length;
      return body.write(chunk, offset);
    },
    end: () => body.end(),
    abort: () => body.abort?.(),
  };
}

export async function applyLayer(opts: ApplyLayerOptions): Promise<LayerStats> {
  const label = opts.label ?? 'layer';
  const signal = opts.signal;
  const interpretWhiteouts = opts.whiteouts ?? true;
  const ownWriter = opts.writer === undefined;
  const w = opts.writer ?? createRootWriter(opts.root, { preserveOwners: opts.preserveOwners, signal });
  const stats = emptyStats();
  const layerPaths = new Set<string>();
  const warnCounts = new Map<string, number>();
  let compressedBytes = 0;
  let reportedBytes = -1; // progress is reported once per blob chunk read, not per entry

  const warn = (kind: string, text: string): void => {
    const n = (warnCounts.get(kind) ?? 0) + 1;
    warnCounts.set(kind, n);
    if (n === 1 && stats.warnings.length < MAX_WARNINGS) stats.warnings.push(`${label}: ${text}`);
  };
  const report: WriteReport = { skipped: stats.skipped, warn };
  w.startLayer(report);
  // Ancestor-closed: stop at the first ancestor already recorded.
  const markLayer = (path: string): void => {
    for (let p = path; p !== '' && !layerPaths.has(p); p = parentOf(p)) layerPaths.add(p);
  };
  const progress = (): void => {
    if (opts.onProgress && compressedBytes !== reportedBytes) {
      reportedBytes = compressedBytes;
      opts.onProgress({ bytes: compressedBytes, entries: stats.entries });
    }
  };

  /** A whiteout or opaque marker: applied to what lower layers left. */
  const applyWhiteout = (entry: TarEntry, name: string): boolean => {
    const wh = classifyWhiteout(name);
    if (wh.kind === 'none') return false;
    if (wh.kind === 'ignored') {
      warn('whiteout-ignored', `entry "${displayName(entry.name)}" skipped (${wh.reason})`);
      return true;
    }
    stats.whiteouts++;
    if (wh.kind === 'opaque') {
      // The marker's directory is resolved like any entry's parent: through a symlink too.
      const dir = w.resolve(wh.dir);
      if (w.existing(dir) === 'dir') w.clearLower(dir, (c) => childSurvivesOpaque(c, layerPaths));
      return true;
    }
    const target = w.resolveNoFollow(wh.target);
    if (target === '') return true;
    const action = whiteoutAction(target, w.existing(target), layerPaths);
    if (action === 'remove') w.remove(target);
    else if (action === 'clear-lower-content') w.clearLower(target, (c) => childSurvivesOpaque(c, layerPaths));
    return true;
  };

  const applyEntry = (entry: TarEntry): EntryBody | undefined | Promise<undefined> => {
    progress();
    stats.entries++;
    const problem = nameProblem(entry.name);
    if (problem) throw badEntry(label, entry.name, problem === 'empty' ? 'empty name' : 'name contains a NUL byte');
    const { path: name, contained } = normalizeEntryName(entry.name);
    if (contained) warn('contained', `entry "${displayName(entry.name)}" names a path outside the root; written as "/${displayName(name)}" inside it`);
    const kind = entry.kind;
    if (kind === undefined) {
      warn(`type:${entry.type}`, `entry "${displayName(entry.name)}" of type ${entry.type} skipped (not a file type this unpack knows)`);
      return undefined;
    }
    if (nameTooLong(name, w.root)) throw badEntry(label, entry.name, 'name too long for the filesystem', TOO_LONG_HINT);
    if (interpretWhiteouts && applyWhiteout(entry, name)) return undefined;

    const meta = entry.meta;
    if (name === '') {
      if (kind === 'dir') w.rootDir(meta);
      else warn('root', `entry "${displayName(entry.name)}" would replace the root with a ${kind}; skipped`);
      return undefined;
    }

    const parent = w.ensureDir(parentOf(name));
    for (const c of parent.created) markLayer(c);
    const path = parent.path === '' ? baseName(name) : `${parent.path}/${baseName(name)}`;
    markLayer(path);
    const xattrs = meta.xattrs.length > 0 && kind !== 'hardlink' ? (): Promise<void> => w.xattrs(path, meta.xattrs) : undefined;

    switch (kind) {
      case 'file': {
        stats.files++;
        const body = counted(w.file(path, meta, entry.size), stats);
        if (xattrs === undefined) return body;
        return {
          ...body,
          end: async () => {
            await body.end();
            await xattrs();
          },
        };
      }
      case 'dir':
        w.dir(path, meta);
        stats.dirs++;
        break;
      case 'symlink': {
        const target = entry.linkname;
        if (target === '' || target.includes('\u0000')) throw badEntry(label, entry.name, 'symlink with an empty or NUL-containing target');
        if (target.length > 4095) throw badEntry(label, entry.name, 'symlink target too long for the filesystem', TOO_LONG_HINT);
        w.symlink(path, target, meta);
        stats.symlinks++;
        break;
      }
      case 'hardlink': {
        const linkname = entry.linkname;
        const lp = nameProblem(linkname);
        if (lp) throw badEntry(label, entry.name, `hardlink with ${lp === 'empty' ? 'an empty' : 'a NUL-containing'} target`);
        const normalized = normalizeEntryName(linkname);
        if (normalized.contained) warn('contained-link', `hardlink "${displayName(entry.name)}" → "${displayName(linkname)}" names a path outside the root; resolved inside it`);
        // The target's parents are resolved inside the root; its last component is not followed
        // (link(2) does not follow it either), so a link can only ever share an inode in the root.
        const target = w.resolveNoFollow(normalized.path);
        const tk = w.existing(target);
        if (target === '' || tk === 'dir') throw badEntry(label, entry.name, `hardlink to a directory ("${displayName(linkname)}")`);
        if (tk === 'none') throw badEntry(label, entry.name, `hardlink target "${displayName(linkname)}" does not exist`);
        if (target !== path) w.hardlink(path, target);
        stats.hardlinks++;
        break;
      }
      case 'char-device':
      case 'block-device':
      case 'fifo':
        return (async () => {
          if (await w.node(path, kind, meta, { major: entry.devmajor, minor: entry.devminor })) {
            stats.files++;
            await xattrs?.();
          }
          return undefined;
        })();
    }
    return xattrs === undefined ? undefined : xattrs().then(() => undefined);
  };

  await walkTar({
    stream: opts.stream,
    mediaType: opts.mediaType,
    signal,
    label,
    zstd: opts.zstd,
    onBytes: (n) => {
      compressedBytes = n;
    },
    onEntry: applyEntry,
    warn,
  });
  if (ownWriter) w.finish();
  opts.onProgress?.({ bytes: compressedBytes, entries: stats.entries });
  for (const [kind, n] of warnCounts) {
    if (n > 1 && stats.warnings.length < MAX_WARNINGS) stats.warnings.push(`${label}: ${n} entries like the above (${kind})`);
  }
  return stats;
}
