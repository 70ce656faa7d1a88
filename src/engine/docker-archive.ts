/**
 * A `docker load` image tarball (docker-archive: manifest.json with Config/RepoTags/Layers, the
 * config as `<hex>.json`, layers as `<hex>.tar`) built on the fly from the cache, as a stream.
 * Layers go in as they are cached (gzip or plain: the engine decompresses them itself), except
 * zstd, which engines before 23.0 cannot read: those are decompressed while streaming. A tar entry
 * needs its size up front, so a zstd layer is decompressed twice (once to count, once to send)
 * rather than spooled to disk or memory. Every blob is verified against its digest on the way out.
 */
import { Readable } from 'node:stream';
import type tar from 'tar-stream';
import { tarStreamPackage } from '../lazy-packages.js';
import { interrupted, isAbortError, KairosImgError } from '../errors.js';
import { sha256Hex, type Descriptor, type ImageManifest } from '../oci/index.js';
import type { Store } from '../store/layout.js';
import { compressionOfMediaType, layerToTarStream } from '../unpack/index.js';

export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** manifest.json of a docker-archive for one image. Pure. */
export function dockerArchiveManifest(opts: { configDigest: string; layerDigests: string[]; repoTags: string[] }): DockerArchiveManifestEntry[] {
  return [{ Config: `${sha256Hex(opts.configDigest)}.json`, RepoTags: [...opts.repoTags], Layers: opts.layerDigests.map((d) => `${sha256Hex(d)}.tar`) }];
}

export interface DockerArchiveOptions {
  store: Store;
  manifest: ImageManifest;
  /** `registry/repository:tag` names the engine gives the image (none for a digest-only reference). */
  repoTags: string[];
  signal?: AbortSignal | undefined;
  /** Blob bytes written into the archive so far (of `totalBytes`). */
  onBytes?: ((bytes: number) => void) | undefined;
}

/** Layers the engine cannot decompress itself, sent as plain tars. */
function needsDecompression(layer: Descriptor): boolean {
  try {
    return compressionOfMediaType(layer.mediaType) === 'zstd';
  } catch {
    return false;
  }
}

/** Checks that every blob of the image is in the cache (a clear error before any byte moves). */
export async function assertCached(store: Store, manifest: ImageManifest, name: string): Promise<void> {
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!(await store.has(d.digest))) {
      throw new KairosImgError('CACHE_INCOMPLETE', `the cache lacks blob ${d.digest} of ${name}`, {
        hint: `pull it into the cache again: kairos-img pull ${name}`, details: { digest: d.digest },
      });
    }
  }
}

async function writeEntry(pack: tar.Pack, name: string, size: number, source: AsyncIterable<Buffer> | Iterable<Buffer>, signal: AbortSignal | undefined, onChunk: (n: number) => void): Promise<void> {
  let written = 0;
  const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0), type: 'file' });
  const done = new Promise<void>((resolve, reject) => {
    entry.once('error', reject);
    entry.once('finish', resolve);
  });
  done.catch(() => undefined);
  for await (const chunk of source) {
    signal?.throwIfAborted();
    written += chunk.length;
    if (written > size) throw new KairosImgError('ARCHIVE_SIZE_CHANGED', `${name} grew past its ${size} bytes while it was written`);
    onChunk(chunk.length);
    if (!entry.write(chunk)) await drained(entry, signal);
  }
  if (written !== size) throw new KairosImgError('ARCHIVE_SIZE_CHANGED', `${name} has ${written} bytes, expected ${size}`);
  entry.end(() => undefined);
  await done;
}

/** Waits for 'drain', or fails when the entry is destroyed or the run aborted (no hang on a dead reader). */
function drained(entry: NodeJS.EventEmitter, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (e?: unknown): void => {
      entry.off('drain', onDrain);
      entry.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (e === undefined) resolve(); else reject(e);
    };
    const onDrain = (): void => finish();
    const onClose = (): void => finish(new Error('the archive was closed before it was complete'));
    const onAbort = (): void => finish(interrupted());
    entry.once('drain', onDrain);
    entry.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function countBytes(stream: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

/** The verified blob stream from the cache (a corrupt blob fails the stream and leaves the cache). */
function verifiedBlob(store: Store, d: Descriptor): Readable {
  return store.openBlob(d);
}

/**
 * The image tarball as a stream. Errors (a blob missing or corrupted, an abort) destroy the
 * stream with the cause, so whoever reads it (the engine's load request) fails instead of loading
 * a partial image.
 */
export function dockerArchiveStream(opts: DockerArchiveOptions): Readable {
  const { store, manifest, signal } = opts;
  const pack = tarStreamPackage().pack();
  const uniqueLayers = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
  let sent = 0;
  const onChunk = (n: number): void => {
    sent += n;
    opts.onBytes?.(sent);
  };
  const out = new Readable({ read() { pack.resume(); } });
  pack.on('data', (chunk: unknown) => { if (!out.push(chunk)) pack.pause(); });
  pack.on('end', () => out.push(null));
  pack.on('error', (e: Error) => out.destroy(e));
  out.on('close', () => { if (!pack.destroyed) pack.destroy(); });

  // A reader that goes away (the load request failed) stops the writer too.
  const stop = new AbortController();
  out.on('close', () => stop.abort());
  const sig = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const write = async (): Promise<void> => {
    const index = dockerArchiveManifest({ configDigest: manifest.config.digest, layerDigests: manifest.layers.map((l) => l.digest), repoTags: opts.repoTags });
    const indexBytes = Buffer.from(`${JSON.stringify(index)}\n`);
    await writeEntry(pack, 'manifest.json', indexBytes.length, [indexBytes], sig, () => undefined);
    await writeEntry(pack, `${sha256Hex(manifest.config.digest)}.json`, manifest.config.size, verifiedBlob(store, manifest.config), sig, onChunk);
    for (const layer of uniqueLayers) {
      const name = `${sha256Hex(layer.digest)}.tar`;
      if (!needsDecompression(layer)) {
        await writeEntry(pack, name, layer.size, verifiedBlob(store, layer), sig, onChunk);
        continue;
      }
      const plain = (): Promise<Readable> => layerToTarStream({ stream: verifiedBlob(store, layer), mediaType: layer.mediaType, signal: sig, label: `layer ${layer.digest}` });
      const size = await countBytes(await plain());
      // Progress counts compressed bytes so the total stays the sum of the blob sizes.
      let plainSent = 0;
      await writeEntry(pack, name, size, await plain(), sig, (n) => {
        const before = Math.floor((plainSent / size) * layer.size);
        plainSent += n;
        onChunk(Math.floor((plainSent / size) * layer.size) - before);
      });
    }
    pack.finalize();
  };
  write().catch((e: unknown) => {
    const err = signal?.aborted === true || isAbortError(e) ? interrupted() : e instanceof Error ? e : new Error(String(e));
    out.destroy(err);
  });
  return out;
}
