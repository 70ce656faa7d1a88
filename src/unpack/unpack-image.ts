/**
 * A whole image (its layers, in order) or any sequence of tar streams → a directory, atomically.
 * Layer N+1 is opened while layer N is applied so a provider that downloads on open overlaps the
 * network with the disk; application itself is strictly in order.
 */
import type { Readable } from 'node:stream';
import { interrupted, isAbortError } from '../errors.js';
import { applyLayer, emptyStats, type LayerStats } from './apply-layer.js';
import { stageDir } from './atomic-dir.js';
import type { ZstdDecoder } from './decompress.js';
import { createRootWriter } from './root-writer.js';

export interface LayerInput {
  digest: string;
  size: number;
  mediaType: string;
  /** Opens the (possibly compressed) layer blob as a stream, already digest-verified by the provider. */
  open(signal: AbortSignal): Promise<NodeJS.ReadableStream | Readable>;
}

export interface UnpackProgress {
  layer: number;
  digest: string;
  /** Compressed bytes of this layer read so far. */
  bytes: number;
  entries: number;
}

export interface UnpackOptions {
  dir: string;
  layers: LayerInput[];
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (e: UnpackProgress) => void;
  /** When false (default when not root) owners, device nodes, privileged xattrs are skipped and counted. */
  preserveOwners?: boolean;
  /** Layers opened ahead of the one being applied (default 1). */
  prefetch?: number;
  zstd?: ZstdDecoder;
}

export interface UnpackReport extends LayerStats {
  dir: string;
  layers: number;
}

interface Source {
  label: string;
  mediaType: string;
  open(signal: AbortSignal): Promise<NodeJS.ReadableStream | Readable>;
}

interface UnpackSourcesOptions {
  dir: string;
  sources: Source[];
  whiteouts: boolean;
  force?: boolean | undefined;
  signal?: AbortSignal | undefined;
  preserveOwners?: boolean | undefined;
  prefetch?: number | undefined;
  zstd?: ZstdDecoder | undefined;
  onProgress?: ((layer: number, e: { bytes: number; entries: number }) => void) | undefined;
}

function addStats(total: LayerStats, s: LayerStats): void {
  total.entries += s.entries;
  total.files += s.files;
  total.dirs += s.dirs;
  total.symlinks += s.symlinks;
  total.hardlinks += s.hardlinks;
  total.whiteouts += s.whiteouts;
  total.bytes += s.bytes;
  total.skipped.owners += s.skipped.owners;
  total.skipped.devices += s.skipped.devices;
  total.skipped.xattrs += s.skipped.xattrs;
  total.warnings.push(...s.warnings);
}

async function unpackSources(opts: UnpackSourcesOptions): Promise<UnpackReport> {
  opts.signal?.throwIfAborted();
  const staged = await stageDir({ dir: opts.dir, force: opts.force });
  // One controller for this unpack: cancels prefetched opens when a layer fails.
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const opened: Array<Promise<NodeJS.ReadableStream | Readable> | undefined> = [];
  const openAt = (i: number): Promise<NodeJS.ReadableStream | Readable> => {
    let p = opened[i];
    if (p === undefined) {
      p = (opts.sources[i] as Source).open(ac.signal);
      p.catch(() => undefined); // observed when its turn comes
      opened[i] = p;
    }
    return p;
  };
  const prefetch = Math.max(0, opts.prefetch ?? 1);
  const total = emptyStats();
  try {
    // The root's own mode unless a layer set it: what umoci and docker give a rootfs.
    const writer = createRootWriter(staged.temp, { preserveOwners: opts.preserveOwners, signal: ac.signal, rootMode: 0o755 });
    for (let i = 0; i < opts.sources.length; i++) {
      if (ac.signal.aborted) throw interrupted();
      const source = opts.sources[i] as Source;
      const stream = await openAt(i);
      for (let j = i + 1; j <= i + prefetch && j < opts.sources.length; j++) void openAt(j);
      const stats = await applyLayer({
        root: staged.temp,
        stream,
        mediaType: source.mediaType,
        signal: ac.signal,
        whiteouts: opts.whiteouts,
        writer,
        label: source.label,
        zstd: opts.zstd,
        onProgress: opts.onProgress ? (e) => opts.onProgress?.(i, e) : undefined,
      });
      addStats(total, stats);
    }
    writer.finish();
    if (ac.signal.aborted) throw interrupted();
    await staged.commit();
  } catch (e) {
    ac.abort();
    // Streams opened ahead and never read must not keep sockets or files open.
    for (const p of opened) {
      p?.then(
        (s) => (s as Readable).destroy?.(),
        () => undefined,
      );
    }
    await staged.discard();
    if (opts.signal?.aborted || isAbortError(e)) throw interrupted();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return {
    dir: staged.dir,
    layers: opts.sources.length,
    entries: total.entries,
    files: total.files,
    dirs: total.dirs,
    symlinks: total.symlinks,
    hardlinks: total.hardlinks,
    whiteouts: total.whiteouts,
    bytes: total.bytes,
    skipped: total.skipped,
    warnings: total.warnings,
  };
}

/** Applies an image's layers in order into `dir`, atomically (temporary sibling, rename into place). */
export async function unpackImage(opts: UnpackOptions): Promise<UnpackReport> {
  return unpackSources({
    dir: opts.dir,
    whiteouts: true,
    force: opts.force,
    signal: opts.signal,
    preserveOwners: opts.preserveOwners,
    prefetch: opts.prefetch,
    zstd: opts.zstd,
    sources: opts.layers.map((l) => ({ label: `layer ${l.digest}`, mediaType: l.mediaType, open: (s) => l.open(s) })),
    onProgress: opts.onProgress
      ? (i, e) => opts.onProgress?.({ layer: i, digest: (opts.layers[i] as LayerInput).digest, ...e })
      : undefined,
  });
}

export type TarStreamSource = NodeJS.ReadableStream | Readable | ((signal: AbortSignal) => Promise<NodeJS.ReadableStream | Readable>);

export interface UnpackTarStreamsOptions {
  dir: string;
  /** Plain, gzip or zstd tar streams (told apart by magic bytes), applied in order. */
  streams: TarStreamSource[];
  force?: boolean;
  signal?: AbortSignal;
  preserveOwners?: boolean;
  /** Interpret `.wh.*` entries as OCI whiteouts (default false: a filesystem export has none). */
  whiteouts?: boolean;
  onProgress?: (e: { stream: number; bytes: number; entries: number }) => void;
}

/**
 * The same safe, atomic writer for tar streams that are not image layers — e.g. `docker export`
 * of a container's filesystem.
 */
export async function unpackTarStreams(opts: UnpackTarStreamsOptions): Promise<UnpackReport> {
  return unpackSources({
    dir: opts.dir,
    whiteouts: opts.whiteouts ?? false,
    force: opts.force,
    signal: opts.signal,
    preserveOwners: opts.preserveOwners,
    sources: opts.streams.map((s, i) => ({
      label: `tar stream ${i + 1}`,
      mediaType: 'auto',
      open: typeof s === 'function' ? s : async () => s,
    })),
    onProgress: opts.onProgress ? (i, e) => opts.onProgress?.({ stream: i, ...e }) : undefined,
  });
}
