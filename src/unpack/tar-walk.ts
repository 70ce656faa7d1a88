/**
 * The one tar walk: a layer blob (or any tar stream) → decompression (decompress.ts) → the tar
 * parser → one normalized entry at a time, handed to the caller's `onEntry`. The caller answers
 * with a body sink for the entry's content, or nothing (the content is then skipped); errors are
 * wrapped here once, the same way for every reader (unpack, image file reads, artifact layers).
 *
 * The walk pushes content into the sink instead of handing out a stream per entry: a sink that
 * writes synchronously (the unpack's file writes) then costs no promise round trip per entry.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { interrupted, isAbortError, KairosImgError, type ErrorKind } from '../errors.js';
import { asReadable, layerToTarStream, type ZstdDecoder } from './decompress.js';
import { entryKindOf, entryMeta, type EntryKind, type EntryMeta } from './entry-semantics.js';
import { errnoOf } from './root-writer.js';

export interface TarEntry {
  /** The name as the archive holds it (not normalized). */
  readonly name: string;
  /** Link target (symlinks, hardlinks); '' when none. */
  readonly linkname: string;
  /** What the entry creates; undefined for a type with no filesystem meaning here. */
  readonly kind: EntryKind | undefined;
  /** The archive's own type, for messages. */
  readonly type: string;
  /** Bytes of content the entry's file holds. */
  readonly size: number;
  readonly meta: EntryMeta;
  readonly devmajor: number;
  readonly devminor: number;
}

/** Receives one entry's content; a returned promise is awaited before more is pushed. */
export interface EntryBody {
  /** `chunk` holds the file's bytes at `offset`. */
  write(chunk: Buffer, offset: number): void | Promise<void>;
  /** After the last chunk (also for empty content). */
  end(): void | Promise<void>;
  /** The walk failed before `end`: release what the body holds (an open file). */
  abort?(): void;
}

export type EntryHandler = (entry: TarEntry) => EntryBody | undefined | Promise<EntryBody | undefined>;

/** How a stream that is not a valid tar is reported (the code and kind of the caller's domain). */
export interface InvalidTarError {
  code: string;
  kind: ErrorKind;
  hint: string;
}

export interface WalkTarOptions {
  /** A layer blob (compressed or not) or a plain tar stream. */
  stream: NodeJS.ReadableStream | Readable;
  /** A layer media type, or 'auto' (plain, gzip or zstd told by magic bytes). */
  mediaType: string;
  signal?: AbortSignal | undefined;
  /** Names the stream in errors. */
  label: string;
  zstd?: ZstdDecoder | undefined;
  /** Compressed bytes read so far, per chunk. */
  onBytes?: ((n: number) => void) | undefined;
  onEntry: EntryHandler;
  invalid?: InvalidTarError | undefined;
}

const DEFAULT_INVALID: InvalidTarError = {
  code: 'UNPACK_LAYER_CORRUPT',
  kind: 'verification',
  hint: 'the layer is not a valid tar stream; remove it from the cache and pull again',
};

type StreamEntry = AsyncIterable<Buffer> & { header: tar.Header & { pax?: Record<string, string> | null } };

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

function toEntry(h: StreamEntry['header']): TarEntry {
  const kind = entryKindOf(h.type);
  return {
    name: h.name,
    linkname: h.linkname ?? '',
    kind,
    type: String(h.type),
    size: h.size ?? 0,
    meta: entryMeta(h, kind ?? 'file'),
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  };
}

async function drain(entry: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of entry) {
    // skipped
  }
}

export async function walkTar(opts: WalkTarOptions): Promise<void> {
  const { signal, label } = opts;
  signal?.throwIfAborted();
  const tarStream = await layerToTarStream({
    stream: asReadable(opts.stream),
    mediaType: opts.mediaType,
    signal,
    label,
    zstd: opts.zstd,
    onBytes: opts.onBytes,
  });
  const extract = tar.extract();
  const feeding = pipeline(tarStream, extract, ...(signal ? [{ signal }] : []));
  feeding.catch(() => undefined); // surfaced through the iterator below, or awaited at the end
  try {
    for await (const e of extract as AsyncIterable<StreamEntry>) {
      if (signal?.aborted) throw interrupted();
      const answer = opts.onEntry(toEntry(e.header));
      const body = isPromise(answer) ? await answer : answer;
      if (body === undefined) {
        await drain(e);
        continue;
      }
      try {
        let offset = 0;
        for await (const chunk of e) {
          const r = body.write(chunk, offset);
          offset += chunk.length;
          if (r !== undefined) await r;
        }
      } catch (err) {
        body.abort?.();
        throw err;
      }
      const r = body.end();
      if (r !== undefined) await r;
    }
    await feeding;
  } catch (e) {
    extract.destroy();
    tarStream.destroy();
    await feeding.catch(() => undefined);
    throw wrapWalkError(e, label, signal, opts.invalid ?? DEFAULT_INVALID);
  }
}

function wrapWalkError(e: unknown, label: string, signal: AbortSignal | undefined, invalid: InvalidTarError): unknown {
  if (signal?.aborted || isAbortError(e)) return interrupted();
  if (e instanceof KairosImgError) return e;
  const code = errnoOf(e);
  // Filesystem failures (ENOSPC, EACCES…) are the host's problem; everything else came from the stream.
  if (code !== undefined && !code.startsWith('Z_') && code !== 'ERR_STREAM_PREMATURE_CLOSE') {
    return new KairosImgError('UNPACK_WRITE_FAILED', `${label}: ${(e as Error).message}`, { kind: 'operational', cause: e });
  }
  return new KairosImgError(invalid.code, `${label}: ${e instanceof Error ? e.message : String(e)}`, {
    kind: invalid.kind,
    hint: invalid.hint,
    cause: e,
  });
}
