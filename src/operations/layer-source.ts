/**
 * Layers for the unpack engine, from the cache or the image source (for a registry image; a local
 * source — an archive, a layout — is read directly and never copied into the cache). A cached layer
 * is read from the cache. The first missing layer streams from the registry straight into the unpacker while a tee
 * writes it into the cache; later layers are downloaded whole into the cache when the unpacker opens
 * them ahead of use (it opens layer N+1 while applying N), so the network overlaps the disk.
 * Every byte is digest-verified on the way: the client's verifying stream for the network, the
 * store's for blobs that were in the cache before (a corrupt one fails with CACHE_CORRUPT and is removed).
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Descriptor } from '../oci/index.js';
import type { Store } from '../store/index.js';
import type { ImageSource } from '../store/sources/index.js';
import type { LayerInput } from '../unpack/index.js';

export interface LayerSourceOptions {
  /** Where layers not in the cache come from (the registry, an archive, a layout). */
  source: Pick<ImageSource, 'blob'>;
  /**
   * Fill the cache on the way (a registry image: the next run needs no network). Off for local
   * sources: their layers are already on this disk, and a second copy would double the writes.
   */
  cache: boolean;
  store: Store;
  layers: readonly Descriptor[];
  /** Compressed bytes received so far for a layer (network only). */
  onDownload?: ((index: number, bytes: number, total: number) => void) | undefined;
}

/** Splits one stream into two with shared backpressure; an error or early close of either ends both. */
function tee(src: Readable): [PassThrough, PassThrough] {
  const a = new PassThrough({ highWaterMark: 1 << 20 });
  const b = new PassThrough({ highWaterMark: 1 << 20 });
  src.pipe(a);
  src.pipe(b);
  const fail = (e: unknown): void => {
    const err = e instanceof Error ? e : new Error(String(e));
    a.destroy(err);
    b.destroy(err);
    src.destroy(err);
  };
  // `on`, not `once`, and a listener on both halves: after one side gave up (an interrupt, a failed
  // cache write) the source's late error and the halves' shared error still have somewhere to go
  // instead of becoming an uncaught 'error' event. Live consumers get them through their own listeners.
  src.on('error', fail);
  for (const s of [a, b]) {
    s.on('error', () => undefined);
    s.once('close', () => {
      if (!s.writableFinished) fail(new Error('the consumer of a layer stopped early'));
    });
  }
  return [a, b];
}

export interface LayerSources {
  layers: LayerInput[];
  /** Waits for cache writes still running (a failed one removes its temporary file first). */
  settle(): Promise<void>;
}

export function layerInputs(opts: LayerSourceOptions): LayerSources {
  let streamed = false;
  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    p.then(() => pending.delete(p), () => pending.delete(p));
    return p;
  };
  const layers = opts.layers.map((desc, index) => ({
    digest: desc.digest,
    size: desc.size,
    mediaType: desc.mediaType,
    async open(signal: AbortSignal): Promise<Readable> {
      const fetch = (pooled = false): Readable => opts.source.blob(desc, {
        signal, pooled,
        onProgress: (bytes) => opts.onDownload?.(index, bytes, desc.size),
      });
      if (!opts.cache) return fetch();
      if (await opts.store.has(desc.digest)) return opts.store.openBlob(desc);
      if (!streamed) {
        streamed = true;
        const [toUnpack, toCache] = tee(fetch());
        // The cache write finishes (or fails) with the stream; its failure reaches the unpacker through the tee.
        track(opts.store.writeBlob(desc, toCache, { signal, preverified: true })).catch((e: unknown) => toUnpack.destroy(e instanceof Error ? e : new Error(String(e))));
        return toUnpack;
      }
      // Straight into the cache and nowhere else: its memory is recycled as it is written.
      await track(opts.store.writeBlob(desc, fetch(true), { signal, preverified: true, recycleChunks: true }));
      // Verified by the client a moment ago, written by us: counted again, not hashed again.
      return opts.store.openBlob(desc, { trusted: true });
    },
  }));
  return {
    layers,
    async settle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
