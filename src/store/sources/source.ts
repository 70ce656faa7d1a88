/**
 * ONE interface for where an image's manifest and blobs come from (go-containerregistry's
 * `v1.Image` over `remote`, `layout`, `tarball`): the registry, an OCI layout directory, an
 * oci-archive, a docker-archive and the Docker engine all answer the same three questions —
 * what document the name points at, a manifest for a platform, a blob for a descriptor — and
 * every answer is checked against its digest on the way (src/oci/verify-stream.ts).
 */
import { pipeline, type Readable } from 'node:stream';
import { KairosImgError, interrupted } from '../../errors.js';
import { defaultPlatform, parseManifestDocument, selectPlatform, sizeMismatch, verifyBytes, verifyingStream, type Descriptor, type Platform } from '../../oci/index.js';
import type { Reference } from '../../reference/reference.js';
import { digesterFor } from '../file-hasher.js';
import type { ManifestResult } from '../../registry/index.js';

export type SourceKind = 'registry' | 'oci' | 'oci-archive' | 'docker-archive' | 'docker-daemon';

export interface BlobReadOptions {
  signal?: AbortSignal | undefined;
  /** Bytes verified so far (cumulative). */
  onProgress?: ((bytes: number) => void) | undefined;
  /**
   * false: count bytes but do not hash them — only for a consumer that hashes the same bytes
   * itself and fails on a mismatch (an upload to a registry verifies what it sends).
   */
  verify?: boolean | undefined;
  /**
   * The consumer gives every chunk back to the slab pool when done with it (a file written with
   * `recycleChunks`): a registry then reads a large blob into reused memory. Only for such a
   * consumer — anywhere else a chunk would hold a whole slab alive.
   */
  pooled?: boolean | undefined;
}

export interface ImageSource {
  readonly kind: SourceKind;
  /** How reports and errors name the source: the reference, or the transport string (`docker-archive:/x.tar:name`). */
  readonly label: string;
  /** The name the image carries: the registry reference, a docker-archive RepoTag, a layout ref name that is a full reference. */
  readonly reference?: Reference | undefined;
  /** The document the name points at, exact bytes: an index or a manifest. */
  root(opts?: { signal?: AbortSignal | undefined }): Promise<{ descriptor: Descriptor; raw: Buffer }>;
  /** A manifest or index named by a descriptor, exact bytes, checked against the descriptor. */
  manifestBytes(descriptor: Descriptor, opts?: { signal?: AbortSignal | undefined }): Promise<Buffer>;
  /** The image manifest for `platform` (an index resolved to the platform's entry). */
  manifest(opts?: { platform?: Platform | undefined; signal?: AbortSignal | undefined }): Promise<ManifestResult>;
  /** A blob, verified against `descriptor` while it streams: it fails before its end on a mismatch. */
  blob(descriptor: Descriptor, opts?: BlobReadOptions): Readable;
  /** Releases what the source holds (file handles, spooled archives). Idempotent. */
  close(): Promise<void>;
}

/**
 * `manifest()` for sources that hold their documents as files: `top` (the document the name points
 * at), and for an index the platform's entry. The same rules as the registry client's getManifest
 * (the child's size and digest checked, an index inside an index refused).
 */
export async function manifestFromRoot(
  top: { descriptor: Descriptor; raw: Buffer },
  source: Pick<ImageSource, 'manifestBytes' | 'label'>,
  opts: { platform?: Platform | undefined; signal?: AbortSignal | undefined },
): Promise<ManifestResult> {
  const doc = parseManifestDocument(top.raw, top.descriptor.mediaType, source.label);
  if (doc.kind === 'manifest') return { descriptor: { ...top.descriptor, mediaType: doc.mediaType }, manifest: doc.manifest, raw: top.raw };
  const chosen = selectPlatform(doc.manifest, opts.platform ?? defaultPlatform(), source.label);
  const raw = await source.manifestBytes(chosen, opts);
  const child = parseManifestDocument(raw, chosen.mediaType, `${source.label} (${chosen.digest})`);
  if (child.kind !== 'manifest') {
    throw new KairosImgError('UNSUPPORTED_MEDIA_TYPE', `${source.label}: the index entry for the platform is itself an index`, { details: { digest: chosen.digest } });
  }
  return {
    descriptor: { mediaType: child.mediaType, digest: chosen.digest, size: raw.length, ...(chosen.platform ? { platform: chosen.platform } : {}) },
    manifest: child.manifest,
    raw,
    index: { descriptor: { ...top.descriptor, mediaType: doc.mediaType }, manifest: doc.manifest, raw: top.raw },
  };
}

/**
 * A file's bytes as a blob stream, verified against `descriptor` (the one verifying stream);
 * `open` failing (a missing member) becomes the stream's error, and an abort destroys it.
 */
export function verifiedBlob(open: () => Readable, descriptor: Descriptor, what: string, opts: BlobReadOptions = {}): Readable {
  const verified = verifyingStream(descriptor, {
    what, onProgress: opts.onProgress, hash: opts.verify !== false,
    digester: opts.verify !== false ? digesterFor(descriptor) : undefined,
  });
  let raw: Readable;
  try {
    raw = open();
  } catch (e) {
    process.nextTick(() => verified.destroy(e instanceof Error ? e : new Error(String(e))));
    return verified;
  }
  pipeline(raw, verified, () => undefined);
  const signal = opts.signal;
  if (signal !== undefined) {
    const onAbort = (): void => { verified.destroy(interrupted()); };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    verified.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return verified;
}

/** Reads a small blob (a config, a manifest) whole, with the same checks. */
export async function readSmallBlob(source: Pick<ImageSource, 'blob' | 'label'>, descriptor: Descriptor, opts: { cap: number; signal?: AbortSignal | undefined }): Promise<Buffer> {
  if (descriptor.size > opts.cap) {
    throw new KairosImgError('BLOB_TOO_LARGE', `blob ${descriptor.digest} of ${source.label} is ${descriptor.size} bytes, over the ${opts.cap}-byte limit`, { details: { digest: descriptor.digest } });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of source.blob(descriptor, { signal: opts.signal })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Bytes read whole (a file's manifest) checked against a descriptor: size first, then the digest. */
export function checkedBytes(descriptor: Descriptor, raw: Buffer, what: string): Buffer {
  if (raw.length !== descriptor.size) throw sizeMismatch(what, descriptor.size, String(raw.length));
  verifyBytes(descriptor, raw, what);
  return raw;
}
