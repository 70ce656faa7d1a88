/**
 * Where an image's signatures are, in both of cosign's storage schemes: the legacy tag
 * `sha256-<hex>.sig` (one manifest, a simple-signing layer per signature) and Sigstore bundles
 * stored as OCI 1.1 referrers of the image (artifactType `application/vnd.dev.sigstore.bundle.v0.3+json`,
 * one bundle layer). Reads go through `AttachmentSource`, so this module knows no HTTP: the
 * operation hands in the registry client and a referrers lister.
 */
import type { Descriptor } from '../oci/media-types.js';
import type { Reference } from '../reference/reference.js';
import type { ManifestDocument } from '../registry/client.js';
import { attachmentTag, CosignAnnotation, CosignMediaType, COSIGN_SIGN_PREDICATE } from './cosign.js';
import type { SignatureCandidate } from './verify.js';

/** A referrer as an index lists it (image-spec 1.1 descriptors carry `artifactType`). */
export interface ReferrerDescriptor extends Descriptor {
  artifactType?: string | undefined;
}

/** The referrers of `digest` in `repo`, optionally of one artifactType (distribution-spec: API, or the tag schema). */
export type ListReferrers = (repo: Pick<Reference, 'registry' | 'repository'>, digest: string, opts: { artifactType?: string | undefined; signal?: AbortSignal | undefined }) => Promise<ReferrerDescriptor[]>;

export interface AttachmentSource {
  /** The manifest or index a tag or digest names, as served; undefined when the registry has none. */
  manifest(ref: Reference, signal?: AbortSignal): Promise<ManifestDocument | undefined>;
  /** A small blob (payloads, bundles, SBOMs listed by size first), verified against its digest. */
  blob(repo: Pick<Reference, 'registry' | 'repository'>, desc: Descriptor, signal?: AbortSignal): Promise<Buffer>;
  referrers: ListReferrers;
}

/** Signature blobs are a few hundred bytes (payload) to a few KiB (bundle); anything past this is not one. */
export const SIGNATURE_BLOB_CAP = 1024 * 1024;

function repoOf(ref: Pick<Reference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The JSON fields of a manifest that `ImageManifest` does not model (artifactType, annotations). */
export function manifestFields(raw: Buffer): { artifactType?: string | undefined; annotations?: Record<string, string> | undefined } {
  try {
    const doc = JSON.parse(raw.toString('utf8')) as { artifactType?: unknown; annotations?: unknown };
    return {
      artifactType: typeof doc.artifactType === 'string' ? doc.artifactType : undefined,
      annotations: typeof doc.annotations === 'object' && doc.annotations !== null ? (doc.annotations as Record<string, string>) : undefined,
    };
  } catch {
    return {};
  }
}

/** Every signature of `digest` in both schemes, with the bytes to verify it; none found is an empty list. */
export async function findSignatures(opts: { source: AttachmentSource; repo: Pick<Reference, 'registry' | 'repository'>; digest: string; signal?: AbortSignal | undefined }): Promise<SignatureCandidate[]> {
  const { source, repo, digest, signal } = opts;
  const out: SignatureCandidate[] = [];
  const tag = attachmentTag(digest, 'sig');
  const sig = await source.manifest({ registry: repo.registry, repository: repo.repository, tag }, signal);
  if (sig?.kind === 'manifest') {
    const layers = sig.manifest.layers.filter((l) => l.mediaType === CosignMediaType.simpleSigning);
    for (const [i, layer] of layers.entries()) {
      if (layer.size > SIGNATURE_BLOB_CAP) continue;
      out.push({
        scheme: 'cosign-legacy',
        where: `${repoOf(repo)}:${tag.slice(0, 19)}….sig layer ${i + 1}`,
        payload: await source.blob(repo, layer, signal),
        annotations: layer.annotations ?? {},
      });
    }
  }
  const referrers = await source.referrers(repo, digest, { artifactType: CosignMediaType.bundleV03, signal });
  for (const r of referrers) {
    // Attestations share the artifactType; the index annotation says which predicate a bundle holds.
    const predicate = r.annotations?.[CosignAnnotation.bundlePredicateType];
    if (r.artifactType !== CosignMediaType.bundleV03 || (predicate !== undefined && predicate !== COSIGN_SIGN_PREDICATE)) continue;
    const m = await source.manifest({ registry: repo.registry, repository: repo.repository, digest: r.digest }, signal);
    if (m?.kind !== 'manifest') continue;
    const layer = m.manifest.layers.find((l) => l.mediaType === CosignMediaType.bundleV03);
    if (layer === undefined || layer.size > SIGNATURE_BLOB_CAP) continue;
    out.push({ scheme: 'sigstore-bundle', where: `${repoOf(repo)}@${r.digest.slice(0, 19)}… (referrer)`, bundle: await source.blob(repo, layer, signal) });
  }
  return out;
}
