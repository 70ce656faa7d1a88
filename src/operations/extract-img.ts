/**
 * `extract-img`: the disk image of a release out of its OCI artifact, verified. Name the artifact
 * (catalog + registry discovery) → its manifest (a missing one becomes the error listing the
 * artifact tags that exist) → extract natively or through luet, either way into the same verifying
 * sink (src/artifacts/artifact-sink.ts).
 *
 * The native path reads the layer blob from the cache when a `pull` already stored it (re-hashed
 * while read), otherwise straight from the registry's verified blob stream. A disk image published
 * as an ORAS artifact (a layer with a title, not a tar) is that file, checked by the same sink. It is NOT teed into the
 * cache: disk images are hundreds of MiB that nothing else shares, so a second on-disk copy would
 * double the writes (and the time) of every extraction for a reuse that rarely comes.
 */
import { Transform, pipeline, type Readable } from 'node:stream';
import { KairosImgError, isKairosImgError, usageError } from '../errors.js';
import { formatPlatform, type Descriptor } from '../oci/index.js';
import { formatReference, repositoryName, type Reference } from '../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../registry/index.js';
import { defaultCacheDir, openStore, type Store } from '../store/index.js';
import type { ImageSource } from '../store/sources/index.js';
import type { LuetEngine } from '../engine/luet.js';
import { artifactTags } from '../artifacts/artifact-tags.js';
import { createArtifactSink, type ArtifactFile, type ArtifactSinkOptions } from '../artifacts/artifact-sink.js';
import { extractArtifactLayer, type LayerExtractStats } from '../artifacts/extract-layer.js';
import { extractViaLuet } from '../artifacts/extract-tree.js';
import { isPackedDirectory, layerTitle, titlePath } from '../oci/artifact.js';
import { lazyClient, signatureRequirementFor, withImage, type ImageSpec, type OpenedImage, type OperationOptions } from './common.js';
import { emitter, type ExtractImgEvent } from './events.js';
import type { Resolution } from './resolve.js';
import type { SignatureReport, SignatureRequirement } from './signature.js';
import { signatureGate, signedBlobsCheck, type SignedBlob } from './signature-gate.js';

export interface ExtractImgOptions extends OperationOptions<ExtractImgEvent> {
  /** The artifact: its full reference, or the flavor (and variant) whose release artifact to take. */
  artifact: ImageSpec;
  outDir: string;
  decompress?: boolean | undefined;
  via?: 'native' | 'luet' | undefined;
  /** Force the luet engine ('luet' binary or 'docker'); default: luet when on PATH, else Docker. */
  luetEngine?: LuetEngine | undefined;
  /** The content cache to read the blob from when a pull already stored it. */
  cacheDir?: string | undefined;
  /** Verify the image's signature before anything is downloaded or written (exit 3 when none satisfies it). */
  signature?: SignatureRequirement | undefined;
}

/** Disk-image artifacts are arm images: arm64 unless told otherwise: their index is linux/arm64 only (kairos-io/kairos#3445). */
const ARTIFACT_ARCH = 'arm64';

export interface ExtractImgSummary {
  reference: string;
  digest: string;
  engine: 'native' | LuetEngine;
  /** The luet command that ran (luet path only). */
  command?: string[] | undefined;
  outDir: string;
  files: Array<Pick<ArtifactFile, 'path' | 'size' | 'sha256' | 'verified' | 'checksum' | 'role'> & Partial<Pick<ArtifactFile, 'compression' | 'rawSize' | 'rawSha256' | 'checksumFile' | 'decompressed'>>>;
  /** Entries that were neither artifact files nor directories. */
  skipped: number;
  /** How to write the disk image to a card (the device is left to the user). */
  next?: string | undefined;
  resolution?: Resolution | undefined;
  /** The signature check, when one was required. */
  signature?: SignatureReport | undefined;
  /** The `cosign sign-blob` bundles of the checksum files, verified with the same policy. */
  signedFiles?: SignedBlob[] | undefined;
}

const DD = 'of=/dev/sdX bs=4M conv=fsync status=progress';

/** The command that writes `image` to a card, pure: raw images go to dd, compressed ones through their decoder. */
export function writeCommand(image: Pick<ArtifactFile, 'path' | 'compression' | 'decompressed'>): string {
  const q = (p: string): string => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);
  switch (image.decompressed === true ? 'none' : (image.compression ?? 'none')) {
    case 'xz': return `xz -dc ${q(image.path)} | sudo dd ${DD}`;
    case 'gzip': return `gzip -dc ${q(image.path)} | sudo dd ${DD}`;
    case 'zstd': return `zstd -dc ${q(image.path)} | sudo dd ${DD}`;
    default: return `sudo dd if=${q(image.path)} ${DD}`;
  }
}

/** Extracts (and verifies) a disk-image artifact into `outDir`. */
export async function extractImg(opts: ExtractImgOptions): Promise<ExtractImgSummary> {
  const emit = emitter(opts.onEvent);
  const { signal } = opts;
  const client = lazyClient(opts, emit);
  return withImage({
    image: opts.artifact, kind: 'artifact', arch: opts.arch, registry: opts.registry, hostArch: opts.hostArch, tags: client.tags(), signal, emit,
    client: client.get, env: opts.env, spoolDir: opts.cacheDir ?? defaultCacheDir(opts.env ?? process.env),
  }, (target) => extractFrom(opts, target, client.get, emit));
}

async function extractFrom(opts: ExtractImgOptions, target: OpenedImage, registryClient: () => RegistryClient, emit: (e: ExtractImgEvent) => void): Promise<ExtractImgSummary> {
  const { signal } = opts;
  const ref = target.reference;
  const fromRegistry = target.source.kind === 'registry';
  const architecture = target.resolution?.arch ?? opts.arch ?? ARTIFACT_ARCH;
  let manifest: ManifestResult;
  try {
    // The registry's own lookup (not the operations' explained one): a missing artifact lists the artifact tags.
    manifest = fromRegistry
      ? await registryClient().getManifest(ref, { platform: { os: 'linux', architecture }, signal })
      : await target.source.manifest({ platform: { os: 'linux', architecture }, signal });
  } catch (e) {
    if (fromRegistry && isMissingManifest(e)) throw await artifactNotFound({ client: registryClient(), reference: ref, cause: e, signal });
    throw e;
  }
  const size = manifest.manifest.layers.reduce((a, l) => a + l.size, 0);
  emit({
    type: 'manifest', digest: manifest.descriptor.digest, indexDigest: manifest.index?.descriptor.digest, layers: manifest.manifest.layers.length, size, fromCache: false,
    platform: manifest.descriptor.platform === undefined ? undefined : formatPlatform(manifest.descriptor.platform),
  });

  const requirement = signatureRequirementFor(target, opts.signature);
  const signature = await signatureGate({ requirement, client: registryClient(), reference: ref, manifest, signal, emit });
  const signedFiles = signedBlobsCheck(requirement);

  const started = Date.now();
  const warn = (message: string): void => emit({ type: 'warning', message });
  let engine: 'native' | LuetEngine = 'native';
  let command: string[] | undefined;
  let files: ArtifactFile[];
  let skipped: number;
  emit({ type: 'extract-start', engine: opts.via === 'luet' ? 'luet' : 'native' });
  if (opts.via === 'luet') {
    if (!fromRegistry) throw usageError('SOURCE_NOT_SUPPORTED', `${target.name}: --via luet reads images from a registry only`, 'leave --via out: the native extraction reads archives and layouts');
    // Pinned by digest: luet fetches exactly what was resolved and checked here.
    const pinned = formatReference({ registry: ref.registry, repository: ref.repository, digest: manifest.descriptor.digest });
    const r = await extractViaLuet({
      image: pinned, label: formatReference(ref), outDir: opts.outDir, decompress: opts.decompress,
      platform: manifest.descriptor.platform === undefined ? undefined : `linux/${manifest.descriptor.platform.architecture}`,
      env: opts.env, signal, engine: opts.luetEngine, warn, log: (message) => emit({ type: 'log', message }), beforeCommit: signedFiles?.check,
    });
    ({ engine, command, files, skipped } = r);
  } else {
    const attempt = (): Promise<ExtractArtifactResult> => extractArtifact({
        source: target.source, reference: ref, manifest, outDir: opts.outDir, decompress: opts.decompress, cacheDir: fromRegistry ? opts.cacheDir : undefined, signal,
        onProgress: (bytes, total) => emit({ type: 'extract-progress', bytes, total }), warn, beforeCommit: signedFiles?.check,
    });
    let r: ExtractArtifactResult;
    try {
      r = await attempt();
    } catch (e) {
      // A corrupt cached blob was removed (and nothing written): fetch it from the registry, once.
      if (!(isKairosImgError(e) && e.code === 'CACHE_CORRUPT')) throw e;
      warn(`${e.message}; fetching it again from the registry`);
      r = await attempt();
    }
    ({ files, skipped } = r);
  }
  const images = files.filter((f) => f.role === 'image');
  emit({ type: 'extracted', files: files.length, images: images.length, verified: images.filter((f) => f.verified).length, seconds: (Date.now() - started) / 1000 });
  const image = images[0];
  return {
    reference: target.name,
    digest: manifest.descriptor.digest,
    engine,
    ...(command === undefined ? {} : { command }),
    outDir: opts.outDir,
    files: files.map((f) => ({
      path: f.path, size: f.size, sha256: f.sha256, verified: f.verified, checksum: f.checksum, role: f.role,
      ...(f.role === 'image' ? { compression: f.compression, rawSize: f.rawSize, rawSha256: f.rawSha256, decompressed: f.decompressed } : {}),
      ...(f.checksumFile === undefined ? {} : { checksumFile: f.checksumFile }),
    })),
    skipped,
    next: image === undefined ? undefined : writeCommand(image),
    resolution: target.resolution,
    ...(signature === undefined ? {} : { signature }),
    ...(signedFiles === undefined ? {} : { signedFiles: signedFiles.results }),
  };
}

export interface ExtractArtifactOptions {
  /** Where the layers come from (the registry, an archive, a layout). */
  source: Pick<ImageSource, 'blob'>;
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
  beforeCommit?: ArtifactSinkOptions['beforeCommit'];
}

export interface ExtractArtifactResult {
  reference: string;
  /** Manifest digest of the artifact image. */
  digest: string;
  layers: Array<{ digest: string; size: number; fromCache: boolean }>;
  files: ArtifactFile[];
  skipped: number;
}

async function blobSource(opts: { source: Pick<ImageSource, 'blob'>; layer: Descriptor; store: Store | undefined; signal?: AbortSignal | undefined }): Promise<{ stream: Readable; fromCache: boolean }> {
  if (opts.store !== undefined && (await opts.store.has(opts.layer.digest))) {
    // Verified while read: the bytes on disk may have changed since they were written.
    const stream = opts.store.openBlob(opts.layer);
    return { stream, fromCache: true };
  }
  return { stream: opts.source.blob(opts.layer, { signal: opts.signal }), fromCache: false };
}

export async function extractArtifact(opts: ExtractArtifactOptions): Promise<ExtractArtifactResult> {
  const label = formatReference(opts.reference);
  const layers = opts.manifest.manifest.layers;
  if (layers.length === 0) {
    throw new KairosImgError('NOT_A_DISK_IMAGE_ARTIFACT', `${label} has no layers`, { hint: 'name the `.img`/`-img` artifact of a release' });
  }
  const store = opts.cacheDir === undefined ? undefined : await openStore({ root: opts.cacheDir });
  const sink = await createArtifactSink({ outDir: opts.outDir, decompress: opts.decompress, signal: opts.signal, label, warn: opts.warn, beforeCommit: opts.beforeCommit });
  const total = layers.reduce((a, l) => a + l.size, 0);
  let before = 0;
  const done: ExtractArtifactResult['layers'] = [];
  let skipped = 0;
  try {
    for (const layer of layers) {
      const source = await blobSource({ source: opts.source, layer, store, signal: opts.signal });
      const title = layerTitle(layer);
      if (title !== undefined && !isPackedDirectory(layer)) {
        // An ORAS file (`oras push … kairos.img.xz`): the blob is the file itself, named by its
        // title, whatever its media type says (oras' default for files is the tar layer type).
        const parts = titlePath(title);
        let bytes = 0;
        const base = before;
        const counted = pipeline(source.stream, new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            opts.onProgress?.(base + bytes, total);
            cb(null, chunk);
          },
        }), () => undefined);
        await sink.addFile(parts[parts.length - 1] as string, counted);
        before += layer.size;
        done.push({ digest: layer.digest, size: layer.size, fromCache: source.fromCache });
        continue;
      }
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
    if (!(isKairosImgError(e) && (e.code === 'NAME_UNKNOWN'))) throw e;
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
  return isKairosImgError(e) && (e.code === 'MANIFEST_UNKNOWN' || e.code === 'NAME_UNKNOWN');
}
