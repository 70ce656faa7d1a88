/**
 * OCI / Docker schema 2 media types and the manifest shapes we read, plus the pure rules
 * that pick a manifest type from a response and a platform from an index.
 * No I/O here: the client feeds bytes and headers in, gets typed values out.
 */
import { KairosImgError } from '../errors.js';

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

export interface Platform {
  architecture: string;
  os: string;
  variant?: string | undefined;
  'os.version'?: string | undefined;
}

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

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Node's process.arch → OCI architecture names. */
export function ociArch(nodeArch: string): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArch] ?? nodeArch;
}

// arm64 images without a variant are v8; arm without variant is usually v7 in practice.
function normalizedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  return undefined;
}

export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (want.variant === undefined) return true;
  return normalizedVariant(want) === normalizedVariant(have);
}

/**
 * Picks the manifest for `want` from an index. Attestation manifests (buildkit's
 * `unknown/unknown`) never match a real platform. Without a match the error lists what is there.
 */
export function selectPlatform(index: ImageIndex, want: Platform, what: string): Descriptor {
  const candidates = index.manifests.filter((d) => kindOfMediaType(d.mediaType) === 'manifest' && d.platform !== undefined);
  const exact = candidates.find((d) => d.platform !== undefined && platformMatches(want, d.platform) &&
    (want.variant === undefined || d.platform.variant !== undefined || want.architecture === 'arm64'));
  const found = exact ?? candidates.find((d) => d.platform !== undefined && platformMatches(want, d.platform));
  if (found !== undefined) return found;
  const present = candidates.map((d) => formatPlatform(d.platform as Platform)).filter((p) => p !== 'unknown/unknown');
  throw new KairosImgError('PLATFORM_NOT_FOUND', `${what} has no image for ${formatPlatform(want)}; it has ${present.length > 0 ? present.join(', ') : 'no platform-specific images'}`, {
    hint: present.length > 0 ? `pick one with --arch, e.g. --arch ${present[0]?.split('/')[1] ?? ''}` : undefined,
    details: { wanted: formatPlatform(want), available: present },
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
