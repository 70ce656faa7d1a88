/**
 * SBOMs and attestations attached to an image, from the three places they are kept: cosign's legacy
 * tags (`sha256-<hex>.sbom`, `.att`), OCI 1.1 referrers with SPDX / CycloneDX / in-toto artifact
 * types (and Sigstore bundles holding attestations), and BuildKit's attestation manifests inside
 * the image index (platform `unknown/unknown`, `vnd.docker.reference.type: attestation-manifest`,
 * as Kairos publishes since kairos-io/kairos#3615). Classification is pure; discovery reads through
 * the same `AttachmentSource` as signatures.
 */
import type { Descriptor, ImageIndex } from '../oci/media-types.js';
import type { Reference } from '../reference/reference.js';
import { attachmentTag, CosignAnnotation, CosignMediaType, COSIGN_SIGN_PREDICATE } from './cosign.js';
import { manifestFields, type AttachmentSource } from './discover.js';

export type AttachmentPlace = 'cosign-tag' | 'referrer' | 'attestation-manifest';
export type AttachmentFormat = 'spdx' | 'cyclonedx' | 'in-toto' | 'dsse' | 'sigstore-bundle' | 'other';

export interface Attachment {
  place: AttachmentPlace;
  kind: 'sbom' | 'attestation';
  format: AttachmentFormat;
  mediaType: string;
  /** The in-toto predicate type, when known (annotation or statement). */
  predicateType?: string | undefined;
  /** The blob. */
  digest: string;
  size: number;
  /** The manifest holding it. */
  manifest: string;
  /** The image digest it is attached to. */
  subject: string;
  where: string;
  /** The blob's descriptor, to fetch it. */
  descriptor: Descriptor;
}

const SPDX_TYPES = ['application/spdx+json', 'text/spdx', 'text/spdx+json', 'application/vnd.spdx+json', 'text/spdx+xml'];
const CYCLONEDX_TYPES = ['application/vnd.cyclonedx+json', 'application/vnd.cyclonedx+xml', 'application/vnd.cyclonedx'];
export const ATTESTATION_MANIFEST = 'attestation-manifest';
const REFERENCE_TYPE = 'vnd.docker.reference.type';
const REFERENCE_DIGEST = 'vnd.docker.reference.digest';
const INTOTO_PREDICATE = 'in-toto.io/predicate-type';

/** The format a media type (or artifactType) names. */
export function formatOf(mediaType: string): AttachmentFormat {
  const base = mediaType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (SPDX_TYPES.includes(base)) return 'spdx';
  if (CYCLONEDX_TYPES.includes(base)) return 'cyclonedx';
  if (base === CosignMediaType.inTotoPayload) return 'in-toto';
  if (base === CosignMediaType.dsseEnvelope) return 'dsse';
  if (base === CosignMediaType.bundleV03 || base.startsWith('application/vnd.dev.sigstore.bundle')) return 'sigstore-bundle';
  return 'other';
}

/** SBOM predicates (SPDX, CycloneDX) make an attestation an SBOM. */
export function isSbomPredicate(predicateType: string | undefined): boolean {
  return predicateType !== undefined && (/^https:\/\/spdx\.dev\/Document/.test(predicateType) || /^https:\/\/cyclonedx\.org\/(bom|schema)/.test(predicateType));
}

export function kindOf(format: AttachmentFormat, predicateType: string | undefined): Attachment['kind'] {
  if (format === 'spdx' || format === 'cyclonedx') return 'sbom';
  return isSbomPredicate(predicateType) ? 'sbom' : 'attestation';
}

/** BuildKit's attestation manifests in an index, with the image digest each one describes. */
export function attestationManifests(index: ImageIndex): Array<{ descriptor: Descriptor; subject: string | undefined }> {
  return index.manifests
    .filter((d) => d.annotations?.[REFERENCE_TYPE] === ATTESTATION_MANIFEST || (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown' && d.annotations?.[REFERENCE_DIGEST] !== undefined))
    .map((d) => ({ descriptor: d, subject: d.annotations?.[REFERENCE_DIGEST] }));
}

/** A referrer's artifactType worth listing here (signatures are `signature verify`'s). */
function listedReferrer(artifactType: string | undefined, predicate: string | undefined): boolean {
  if (artifactType === undefined) return false;
  const f = formatOf(artifactType);
  if (f === 'sigstore-bundle') return predicate !== COSIGN_SIGN_PREDICATE;
  return f !== 'other';
}

/** Everything attached to the image `subjects` name (and, for an index, its attestation manifests). */
export async function findAttachments(opts: {
  source: AttachmentSource;
  repo: Pick<Reference, 'registry' | 'repository'>;
  subjects: readonly string[];
  index?: ImageIndex | undefined;
  signal?: AbortSignal | undefined;
}): Promise<Attachment[]> {
  const { source, repo, signal } = opts;
  const name = `${repo.registry}/${repo.repository}`;
  const out: Attachment[] = [];
  const ref = (r: { tag: string } | { digest: string }): Reference => ({ registry: repo.registry, repository: repo.repository, ...r });
  for (const subject of opts.subjects) {
    for (const suffix of ['sbom', 'att'] as const) {
      const tag = attachmentTag(subject, suffix);
      const m = await source.manifest(ref({ tag }), signal);
      if (m?.kind !== 'manifest') continue;
      for (const layer of m.manifest.layers) {
        const format = formatOf(layer.mediaType);
        const predicateType = layer.annotations?.[CosignAnnotation.predicateType];
        out.push({
          place: 'cosign-tag', kind: suffix === 'sbom' ? 'sbom' : kindOf(format, predicateType), format, mediaType: layer.mediaType, predicateType,
          digest: layer.digest, size: layer.size, manifest: m.descriptor.digest, subject, where: `${name}:${tag.slice(0, 19)}….${suffix}`, descriptor: layer,
        });
      }
    }
    for (const r of await source.referrers(repo, subject, { signal })) {
      const predicate = r.annotations?.[CosignAnnotation.bundlePredicateType];
      if (!listedReferrer(r.artifactType, predicate)) continue;
      const m = await source.manifest(ref({ digest: r.digest }), signal);
      if (m?.kind !== 'manifest') continue;
      const artifactType = r.artifactType ?? manifestFields(m.raw).artifactType ?? '';
      const artifactFormat = formatOf(artifactType);
      for (const layer of m.manifest.layers) {
        const format = formatOf(layer.mediaType) === 'other' ? artifactFormat : formatOf(layer.mediaType);
        out.push({
          place: 'referrer', kind: kindOf(format, predicate), format, mediaType: layer.mediaType, predicateType: predicate,
          digest: layer.digest, size: layer.size, manifest: m.descriptor.digest, subject, where: `${name}@${r.digest.slice(0, 19)}… (referrer, ${artifactType})`, descriptor: layer,
        });
      }
    }
  }
  for (const a of opts.index === undefined ? [] : attestationManifests(opts.index)) {
    const m = await source.manifest(ref({ digest: a.descriptor.digest }), signal);
    if (m?.kind !== 'manifest') continue;
    for (const layer of m.manifest.layers) {
      const format = formatOf(layer.mediaType);
      const predicateType = layer.annotations?.[INTOTO_PREDICATE];
      out.push({
        place: 'attestation-manifest', kind: kindOf(format, predicateType), format, mediaType: layer.mediaType, predicateType,
        digest: layer.digest, size: layer.size, manifest: m.descriptor.digest, subject: a.subject ?? '', where: `${name}@${a.descriptor.digest.slice(0, 19)}… (attestation manifest)`, descriptor: layer,
      });
    }
  }
  return out;
}
