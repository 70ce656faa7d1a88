/**
 * Image sources: where an image's manifest and blobs come from (source.ts), and the opener that
 * turns a transport (`docker-archive:`, `oci-archive:`, `oci:`, `docker-daemon:`) into one.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fsFailure, isErrnoError, usageError } from '../../errors.js';
import { dockerArchiveSource } from './docker-archive.js';
import { archiveView, directoryView, spooledTarView } from './files.js';
import { layoutSource } from './layout-source.js';
import { formatTransport, type SourceTransport } from './transport.js';
import type { ImageSource } from './source.js';

export type { ImageSource, SourceKind, BlobReadOptions } from './source.js';
export { manifestFromRoot, readSmallBlob } from './source.js';
export { registrySource } from './registry-source.js';
export type { RegistrySourceOptions } from './registry-source.js';
export { parseTransport, formatTransport, hasTransport } from './transport.js';
export type { SourceTransport, ParsedTransport } from './transport.js';
export { parseArchiveManifest, selectArchiveEntry, synthesizeManifest } from './docker-archive.js';
export { selectLayoutEntries, blobName, readLayoutIndex } from './layout-source.js';
export { directoryView, archiveView } from './files.js';
export type { FileView } from './files.js';
export { normalizeMemberName } from './files.js';

/** The engine's `docker save` of one image, as a tar stream (src/engine/docker-save.ts). */
export type SaveImage = (name: string, signal?: AbortSignal) => Promise<Readable>;

export interface OpenSourceOptions {
  transport: SourceTransport;
  /** Where compressed archives and the engine's save stream are spooled (the cache directory). */
  spoolDir: string;
  /** Needed for docker-daemon: sources. */
  save?: SaveImage | undefined;
  signal?: AbortSignal | undefined;
}

/** Opens a file, directory or engine source; the caller closes it. */
export async function openSource(opts: OpenSourceOptions): Promise<ImageSource> {
  const t = opts.transport;
  if (t.kind === 'docker-daemon') {
    if (opts.save === undefined) throw usageError('SOURCE_NOT_SUPPORTED', `${formatTransport(t)}: this operation has no Docker engine to read from`);
    const label = formatTransport(t);
    const stream = await opts.save(t.name, opts.signal);
    // docker save writes manifest.json last: the stream is spooled, then read like an archive file.
    const view = await spooledTarView(stream, { dir: opts.spoolDir, where: label, signal: opts.signal, decompress: false });
    try {
      return await dockerArchiveSource({ view, kind: 'docker-daemon', label, index: 0 });
    } catch (e) {
      await view.close();
      throw e;
    }
  }
  const file = path.resolve(t.path);
  const label = formatTransport({ ...t, path: file });
  if (t.kind === 'oci') {
    try {
      if (!(await stat(file)).isDirectory()) {
        throw usageError('NOT_A_LAYOUT', `${label}: ${file} is a file, not a layout directory`, `an archive of a layout is oci-archive:${file}; docker save output is docker-archive:${file}`);
      }
    } catch (e) {
      if (isErrnoError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) throw usageError('SOURCE_NOT_FOUND', `${label}: no such directory ${file}`, 'check the path (it ends at the first colon)');
      throw isErrnoError(e) ? fsFailure(e, `reading ${file}`, file) : e;
    }
    return layoutSource({ view: directoryView(file), kind: 'oci', label, name: t.name });
  }
  const view = await archiveView(file, { where: label, spoolDir: opts.spoolDir, signal: opts.signal });
  try {
    return t.kind === 'oci-archive'
      ? await layoutSource({ view, kind: 'oci-archive', label, name: t.name })
      : await dockerArchiveSource({ view, kind: 'docker-archive', label, name: t.name, index: t.index, file });
  } catch (e) {
    await view.close();
    throw e;
  }
}
