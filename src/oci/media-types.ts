/**
 * OCI / Docker schema 2 media types and the manifest shapes we read, plus the pure rules
 * that pick a manifest type from a response.
 * No I/O here: the client feeds bytes and headers in, gets typed values out.
 */
import { KairosImgError } from '../errors.js';
import type { Platform } from './platform.js';

export type { Platform } from './platform.js';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** The one Accept header every manifest request sends (order = preference). */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerList, MediaType.dockerManifest].join(', ');


export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string> | undefined;
  platform?: Platform | undefined;
  urls?: string[] | undefined;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string | undefined;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string> | undefined;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string | undefined;
  manifests: Descriptor[];
  annotations?: Record<string, string> | undefined;
}

export type ManifestKind = 'index' | 'manifest';

export function kindOfMediaType(mediaType: string): ManifestKind | undefined {
  switch (mediaType) {
    case MediaType.ociIndex:
    case MediaType.dockerList:
      return 'index';
    case MediaType.ociManifest:
    case MediaType.dockerManifest:
      return 'manifest';
    default:
      return undefined;
  }
}

/**
 * The media type of a manifest response. Content-Type decides; some registries answer
 * `application/json` or `text/plain`, then the document's own `mediaType` field is used.
 */
export function manifestMediaType(contentType: string | undefined, doc: unknown): string {
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (kindOfMediaType(ct) !== undefined) return ct;
  const own = isRecord(doc) && typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (own !== undefined && kindOfMediaType(own) !== undefined) return own;
  // An OCI manifest may omit mediaType; the shape tells it apart.
  if (isRecord(doc) && doc.schemaVersion === 2) {
    if (Array.isArray(doc.manifests)) return MediaType.ociIndex;
    if (isRecord(doc.config) && Array.isArray(doc.layers)) return MediaType.ociManifest;
  }
  throw new KairosImgError('UNSUPPORTED_MEDIA_TYPE', `unsupported manifest media type "${ct || own || 'unknown'}"`, {
    hint: 'kairos-img reads OCI image manifests/indexes and Docker schema 2 manifests/lists (schema 1 is not supported)',
    details: { mediaType: ct || own },
  });
}

export function parseManifestDocument(raw: Buffer, contentType: string | undefined, what: string):
  { mediaType: string; kind: 'manifest'; manifest: ImageManifest } | { mediaType: string; kind: 'index'; manifest: ImageIndex } {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new KairosImgError('BAD_MANIFEST', `the manifest of ${what} is not valid JSON`, { details: { reference: what } });
  }
  const mediaType = manifestMediaType(contentType, doc);
  const bad = (problem: string): KairosImgError =>
    new KairosImgError('BAD_MANIFEST', `the manifest of ${what} is malformed: ${problem}`, { details: { reference: what, mediaType } });
  if (!isRecord(doc) || doc.schemaVersion !== 2) throw bad('schemaVersion is not 2');
  if (kindOfMediaType(mediaType) === 'index') {
    if (!Array.isArray(doc.manifests) || !doc.manifests.every(isDescriptor)) throw bad('manifests is not a list of descriptors');
    return { mediaType, kind: 'index', manifest: doc as unknown as ImageIndex };
  }
  if (!isDescriptor(doc.config)) throw bad('config is not a descriptor');
  if (!Array.isArray(doc.layers) || !doc.layers.every(isDescriptor)) throw bad('layers is not a list of descriptors');
  return { mediaType, kind: 'manifest', manifest: doc as unknown as ImageManifest };
}

export function isDescriptor(v: unknown): v is Descriptor {
  return isRecord(v) && typeof v.mediaType === 'string' && typeof v.digest === 'string' &&
    typeof v.size === 'number' && Number.isSafeInteger(v.size) && v.size >= 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
