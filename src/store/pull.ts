/**
 * Daemonless pull: manifest, config and layers of one image into the cache. Blobs already in
 * the cache are not fetched; layers are fetched concurrently (bounded). A blob whose digest
 * does not match after a complete download is fetched once more (a flaky proxy), then the
 * pull fails with nothing from that blob kept.
 */
import { KairosImgError, isAbortError } from '../errors.js';
import { formatReference, type Reference } from '../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../registry/client.js';
import type { RegistryEvent } from '../registry/events.js';
import type { Descriptor, ImageManifest, Platform } from '../oci/index.js';
import type { Store } from './layout.js';

export interface PullImageOptions {
  /** The registry client, or any image source in its shape (src/store/sources/). */
  client: Pick<RegistryClient, 'getManifest' | 'fetchBlob'>;
  store: Store;
  ref: Reference;
  /** The name in the cache's index.json (default: the reference; an archive source names itself). */
  refName?: string | undefined;
  platform?: Platform | undefined;
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Bytes of one layer received so far (cumulative) and its total size. */
  onLayerProgress?: ((digest: string, bytes: number, total: number) => void) | undefined;
  onEvent?: ((e: PullEvent) => void) | undefined;
  /** The manifest already fetched for `ref` (by an earlier task): saves a second request. */
  manifest?: ManifestResult | undefined;
}

export type PullEvent =
  | { type: 'manifest'; reference: string; digest: string; mediaType: string; platform?: Platform | undefined }
  | { type: 'blob-cached'; digest: string; size: number }
  | { type: 'blob-fetched'; digest: string; size: number }
  | { type: 'blob-retry'; digest: string; reason: string }
  /** The cached copy did not match its digest: removed, fetched again. */
  | { type: 'blob-corrupt'; digest: string };

export interface PullImageResult {
  /** Fully-qualified reference as given (tag and/or digest). */
  reference: string;
  /** The image manifest's digest (the platform's manifest when the tag is an index). */
  digest: string;
  mediaType: string;
  /** The index's digest when the reference named a multi-arch index. */
  indexDigest?: string | undefined;
  manifest: ImageManifest;
  config: unknown;
  layers: Descriptor[];
  fetched: number;
  cached: number;
}

export type { RegistryEvent };

export async function pullImage(opts: PullImageOptions): Promise<PullImageResult> {
  const { client, store, ref, signal } = opts;
  const concurrency = Math.max(1, opts.concurrency ?? 3);
  const emit = opts.onEvent ?? (() => undefined);
  const repo = { registry: ref.registry, repository: ref.repository };

  const m = opts.manifest ?? (await client.getManifest(ref, { platform: opts.platform, signal }));
  const refName = opts.refName ?? formatReference(ref);
  emit({ type: 'manifest', reference: refName, digest: m.descriptor.digest, mediaType: m.descriptor.mediaType, platform: m.descriptor.platform });

  let fetched = 0;
  let cached = 0;
  async function ensureBlob(desc: Descriptor, progress: boolean, sig: AbortSignal | undefined): Promise<void> {
    // A blob in the cache counts only once it hashes to its digest: files on disk change.
    const state = await store.verifyBlob(desc, sig);
    if (state === 'corrupt') emit({ type: 'blob-corrupt', digest: desc.digest });
    if (state === 'ok') {
      cached++;
      emit({ type: 'blob-cached', digest: desc.digest, size: desc.size });
      if (progress) opts.onLayerProgress?.(desc.digest, desc.size, desc.size);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        // The store hashes what it writes (off the main thread for layers): no hashing in the stream.
        const stream = client.fetchBlob(repo, desc, {
          signal: sig, hash: false, pooled: true,
          onProgress: progress ? (bytes) => opts.onLayerProgress?.(desc.digest, bytes, desc.size) : undefined,
        });
        const { written } = await store.writeBlob(desc, stream, { signal: sig, recycleChunks: true });
        if (written) fetched++; else cached++;
        emit({ type: written ? 'blob-fetched' : 'blob-cached', digest: desc.digest, size: desc.size });
        return;
      } catch (err) {
        if (isAbortError(err) || sig?.aborted) throw err;
        const mismatch = err instanceof KairosImgError && (err.code === 'DIGEST_MISMATCH' || err.code === 'SIZE_MISMATCH');
        if (!mismatch || attempt >= 1) throw err;
        emit({ type: 'blob-retry', digest: desc.digest, reason: err.message });
      }
    }
  }

  // Config first: small, and it tells a wrong image apart before gigabytes move.
  await ensureBlob(m.manifest.config, false, signal);
  const config = await store.readJson(m.manifest.config.digest);

  const queue = [...m.manifest.layers];
  const failures: unknown[] = [];
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const worker = async (): Promise<void> => {
    for (let d = queue.shift(); d !== undefined && failures.length === 0; d = queue.shift()) {
      try {
        await ensureBlob(d, true, controller.signal);
      } catch (err) {
        // The first failure is the cause; siblings aborted because of it are not.
        if (failures.length === 0) failures.push(err);
        controller.abort(err); // stop the siblings: the pull has failed
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failures.length > 0) throw failures[0];

  // The manifest last: an index entry only ever names a complete image.
  await store.putManifest(refName, m.descriptor, m.raw, { signal });
  if ((opts.refName !== undefined || (ref.tag !== undefined && ref.digest === undefined)) && m.index !== undefined) {
    await store.writeBlob(m.index.descriptor, m.index.raw, { signal });
  }
  return {
    reference: refName, digest: m.descriptor.digest, mediaType: m.descriptor.mediaType,
    ...(m.index ? { indexDigest: m.index.descriptor.digest } : {}),
    manifest: m.manifest, config, layers: m.manifest.layers, fetched, cached,
  };
}
