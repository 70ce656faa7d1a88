/**
 * One artifact layer blob → its artifact files in the sink: read by src/unpack's tar walk (media
 * type checked against magic bytes), and only the entries that `classifyEntry` accepts are written.
 * The tar is read to its end so that the blob stream's digest check (it errors before its end on a
 * mismatch) always runs before the caller commits anything.
 */
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { displayName, fromBytes } from '../unpack/entry-path.js';
import { contiguous, walkTar, type EntryBody } from '../unpack/tar-walk.js';
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

/** An entry's content as the readable stream the sink takes, with the sink's backpressure. */
function intoSink(add: (stream: Readable) => Promise<void>): EntryBody {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  const adding = add(stream);
  let failed: unknown;
  const settled = adding.then(
    () => undefined,
    (e: unknown) => {
      failed = e;
      stream.destroy();
    },
  );
  return {
    async write(chunk) {
      if (failed !== undefined) throw failed;
      if (!stream.write(chunk)) {
        const ac = new AbortController();
        try {
          await Promise.race([once(stream, 'drain', { signal: ac.signal }).catch(() => undefined), settled]);
        } finally {
          ac.abort();
        }
        if (failed !== undefined) throw failed;
      }
    },
    async end() {
      stream.end();
      await adding;
    },
    abort() {
      stream.destroy();
    },
  };
}

export async function extractArtifactLayer(opts: ExtractLayerOptions): Promise<LayerExtractStats> {
  const { label } = opts;
  const stats: LayerExtractStats = { entries: 0, files: 0, skipped: {} };
  const examples = new Map<SkipReason, string>();
  await walkTar({
    stream: opts.blob,
    mediaType: opts.mediaType,
    label,
    signal: opts.signal,
    onBytes: opts.onBytes,
    invalid: { code: 'ARTIFACT_LAYER_CORRUPT', hint: 'the artifact layer is not a valid tar stream; pull it again' },
    onEntry: (entry) => {
      stats.entries++;
      // Names are bytes; an artifact file gets its name as text, so one that is not UTF-8 is unsafe.
      const decision = isUtf8(Buffer.from(entry.name, 'latin1'))
        ? classifyEntry(fromBytes(entry.name), entryTypeOf(entry.kind))
        : ({ kind: 'skip', reason: 'unsafe-name', warn: true } as const);
      if (decision.kind === 'file') {
        stats.files++;
        return contiguous(intoSink((stream) => opts.sink.addFile(decision.name, stream)), entry.size);
      }
      if (decision.warn) {
        stats.skipped[decision.reason] = (stats.skipped[decision.reason] ?? 0) + 1;
        if (!examples.has(decision.reason)) examples.set(decision.reason, displayName(entry.name));
      }
      return undefined;
    },
  });
  for (const [reason, n] of Object.entries(stats.skipped) as Array<[SkipReason, number]>) {
    opts.warn?.(`${label}: skipped ${n} ${n === 1 ? 'entry' : 'entries'}: ${describeSkip(reason)} (e.g. "${examples.get(reason) ?? ''}")`);
  }
  return stats;
}
