/**
 * cosign's and Sigstore's names for what is attached to an image (sigstore/cosign specs/SIGNATURE_SPEC.md,
 * BUNDLE_SPEC.md, ATTESTATION_SPEC.md, SBOM_SPEC.md): tag names, media types, annotation keys. Pure.
 */
import { sha256Hex } from '../oci/digest.js';

export const CosignMediaType = {
  /** A legacy `.sig` layer: the simple-signing payload, its signature in an annotation. */
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  /** A legacy `.att` layer: a DSSE envelope around an in-toto statement. */
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  /** cosign v3: a Sigstore bundle stored as an OCI 1.1 referrer (artifactType and layer). */
  bundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  inTotoPayload: 'application/vnd.in-toto+json',
} as const;

export const CosignAnnotation = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  /** The Rekor entry with its signed entry timestamp (SET), for offline verification. */
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
  /** On `.att` layers: the statement's predicate type. */
  predicateType: 'predicateType',
  /** On bundle referrers (BUNDLE_SPEC.md "Annotations"). */
  bundleContent: 'dev.sigstore.bundle.content',
  bundlePredicateType: 'dev.sigstore.bundle.predicateType',
} as const;

/** The predicate type of `cosign sign` in the bundle format (cosign pkg/types/predicate.go). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export type AttachmentSuffix = 'sig' | 'att' | 'sbom';

/** The legacy tag of an attachment: `sha256-<hex>.sig|.att|.sbom` (tag-based discovery). */
export function attachmentTag(digest: string, suffix: AttachmentSuffix): string {
  return `sha256-${sha256Hex(digest)}.${suffix}`;
}

/** The referrers tag schema's fallback tag for a subject: `sha256-<hex>` (distribution-spec). */
export function referrersTag(digest: string): string {
  return `sha256-${sha256Hex(digest)}`;
}
