/**
 * An artifact image (already resolved, manifest fetched) → its files in an output directory,
 * verified. The layer blob comes from the cache when a `pull` already stored it (re-hashed while
 * read), otherwise straight from the registry's verified blob stream. It is NOT teed into the
 * cache: disk images are hundreds of MiB that nothing else shares, so a second on-disk copy would
 * double the writes (and the time) of every extraction for a reuse that rarely comes.
 */
import type { Readable } from 'node:stream';
import { KairosImgError, isKairosImgError } from '../errors.js';
import { formatReference, repositoryName, type Reference } from '../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../registry/index.js';
import { verifyingStream, type Descriptor } from '../oci/index.js';
import { openStore, type Store } from '../store/index.js';
import { artifactTags } from './artifact-tags.js';
import { createArtifactSink, type ArtifactFile } from './artifact-sink.js';
import { extractArtifactLayer, type LayerExtractStats } from './extract-layer.js';

export interface ExtractArtifactOptions {
  client: RegistryClient;
  reference: Reference;
  manifest: ManifestResult;
  outDir: string;
  decompress?: boolean | undefined;
  /** The content cache to read the blob from when it is already there. */
  cacheDir?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Compressed bytes read so far and the total, across layers. */
  onProgress?: ((bytes: number, total: number) => void) | undefined;
  warn?: ((line: string) => void) | undefined;
}

export interface ExtractArtifactResult {
  reference: string;
  /** Manifest digest of the artifact image. */
  digest: string;
  layers: Array<{ digest: string; size: number; fromCache: boolean }>;
  files: ArtifactFile[];
  skipped: number;
}

async function blobSource(opts: { client: RegistryClient; reference: Reference; layer: Descriptor; store: Store | undefined; signal?: AbortSignal | undefined }): Promise<{ stream: Readable; fromCache: boolean }> {
  if (opts.store !== undefined && (await opts.store.has(opts.layer.digest))) {
    // The cache was verified when written; re-hash anyway — the bytes on disk may have changed since.
    const stream = opts.store.openBlob(opts.layer.digest).pipe(verifyingStream(opts.layer));
    return { stream, fromCache: true };
  }
  return { stream: opts.client.fetchBlob(opts.reference, opts.layer, { signal: opts.signal }), fromCache: false };
}

export async function extractArtifact(opts: ExtractArtifactOptions): Promise<ExtractArtifactResult> {
  const label = formatReference(opts.reference);
  const layers = opts.manifest.manifest.layers;
  if (layers.length === 0) {
    throw new KairosImgError('NOT_A_DISK_IMAGE_ARTIFACT', `${label} has no layers`, { hint: 'name the `.img`/`-img` artifact of a release' });
  }
  const store = opts.cacheDir === undefined ? undefined : await openStore({ root: opts.cacheDir });
  const sink = await createArtifactSink({ outDir: opts.outDir, decompress: opts.decompress, signal: opts.signal, label, warn: opts.warn });
  const total = layers.reduce((a, l) => a + l.size, 0);
  let before = 0;
  const done: ExtractArtifactResult['layers'] = [];
  let skipped = 0;
  try {
    for (const layer of layers) {
      const source = await blobSource({ client: opts.client, reference: opts.reference, layer, store, signal: opts.signal });
      const stats: LayerExtractStats = await extractArtifactLayer({
        blob: source.stream,
        mediaType: layer.mediaType,
        sink,
        label: `${label} layer ${layer.digest.slice(0, 19)}`,
        signal: opts.signal,
        onBytes: (n) => opts.onProgress?.(before + n, total),
        warn: opts.warn,
      });
      skipped += Object.values(stats.skipped).reduce((a, n) => a + (n ?? 0), 0);
      before += layer.size;
      done.push({ digest: layer.digest, size: layer.size, fromCache: source.fromCache });
    }
  } catch (e) {
    await sink.discard();
    throw e;
  }
  const files = await sink.finish();
  return { reference: label, digest: opts.manifest.descriptor.digest, layers: done, files, skipped };
}

/** The "missing artifact" error, listing the artifact tags that do exist in that repository. */
export async function artifactNotFound(opts: { client: RegistryClient; reference: Reference; cause: unknown; signal?: AbortSignal | undefined }): Promise<KairosImgError> {
  const repo = repositoryName(opts.reference);
  let tags: string[] | undefined;
  try {
    tags = await opts.client.listTags(opts.reference, { signal: opts.signal });
  } catch (e) {
    if (!(isKairosImgError(e) && (e.code === 'NAME_UNKNOWN' || e.code === 'NOT_FOUND'))) throw e;
  }
  const found = tags === undefined ? [] : artifactTags(opts.reference.repository, tags);
  const shown = found.slice(0, 20);
  const list = found.length === 0 ? 'none' : `${shown.join(', ')}${found.length > shown.length ? `, … (${found.length - shown.length} more)` : ''}`;
  const where = tags === undefined ? `the repository ${repo} does not exist` : `artifact tags in ${repo}: ${list}`;
  return new KairosImgError('ARTIFACT_NOT_FOUND', `no disk-image artifact ${formatReference(opts.reference)}; ${where}`, {
    hint: found.length > 0 ? `pick one of those (e.g. ${repo}:${found[0] ?? ''}), or another --version` : 'Kairos publishes disk-image artifacts only for arm (Raspberry Pi) flavors; check the flavor, --version and --model',
    details: { reference: formatReference(opts.reference), artifactTags: found },
    cause: opts.cause,
  });
}

export function isMissingManifest(e: unknown): boolean {
  return isKairosImgError(e) && (e.code === 'MANIFEST_UNKNOWN' || e.code === 'NAME_UNKNOWN' || e.code === 'NOT_FOUND');
}
