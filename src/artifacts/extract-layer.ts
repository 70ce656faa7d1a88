/**
 * One artifact layer blob → its artifact files in the sink: decompressed by src/unpack's layer
 * decoder (media type checked against magic bytes), read by tar-stream, and only the entries that
 * `classifyEntry` accepts are written. The tar is read to its end so that the blob stream's digest
 * check (it errors before its end on a mismatch) always runs before the caller commits anything.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { interrupted, isAbortError, KairosImgError } from '../errors.js';
import { layerToTarStream } from '../unpack/decompress.js';
import { classifyEntry, describeSkip, entryTypeOf, type SkipReason } from './artifact-entries.js';
import type { ArtifactSink } from './artifact-sink.js';

export interface ExtractLayerOptions {
  blob: Readable;
  mediaType: string;
  sink: ArtifactSink;
  label: string;
  signal?: AbortSignal | undefined;
  onBytes?: ((compressedBytes: number) => void) | undefined;
  /** One line per skipped entry kind (first example and count). */
  warn?: ((line: string) => void) | undefined;
}

export interface LayerExtractStats {
  entries: number;
  files: number;
  skipped: Partial<Record<SkipReason, number>>;
}

type TarEntry = AsyncIterable<Buffer> & Readable & { header: tar.Header };

export async function extractArtifactLayer(opts: ExtractLayerOptions): Promise<LayerExtractStats> {
  const { signal, label } = opts;
  const tarStream = await layerToTarStream({ stream: opts.blob, mediaType: opts.mediaType, label, signal, onBytes: opts.onBytes });
  const extract = tar.extract();
  const feeding = pipeline(tarStream, extract, ...(signal ? [{ signal }] : []));
  feeding.catch(() => undefined); // surfaced through the iterator, or awaited below
  const stats: LayerExtractStats = { entries: 0, files: 0, skipped: {} };
  const examples = new Map<SkipReason, string>();
  try {
    for await (const entry of extract as AsyncIterable<TarEntry>) {
      if (signal?.aborted) throw interrupted();
      stats.entries++;
      const decision = classifyEntry(entry.header.name, entryTypeOf(entry.header.type));
      if (decision.kind === 'file') {
        await opts.sink.addFile(decision.name, entry);
        stats.files++;
        continue;
      }
      if (decision.warn) {
        stats.skipped[decision.reason] = (stats.skipped[decision.reason] ?? 0) + 1;
        if (!examples.has(decision.reason)) examples.set(decision.reason, entry.header.name);
      }
      for await (const _ of entry) {
        // discarded: not an artifact file
      }
    }
    await feeding;
  } catch (e) {
    extract.destroy();
    tarStream.destroy();
    await feeding.catch(() => undefined);
    if (signal?.aborted || isAbortError(e)) throw interrupted();
    if (e instanceof KairosImgError) throw e;
    throw new KairosImgError('ARTIFACT_LAYER_CORRUPT', `${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  for (const [reason, n] of Object.entries(stats.skipped) as Array<[SkipReason, number]>) {
    opts.warn?.(`${label}: skipped ${n} ${n === 1 ? 'entry' : 'entries'}: ${describeSkip(reason)} (e.g. "${examples.get(reason) ?? ''}")`);
  }
  return stats;
}
