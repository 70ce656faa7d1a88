/** cosign signatures, SBOMs and attestations: discovery through an `AttachmentSource`, verification with sigstore-js. */
export { attachmentTag, referrersTag, CosignMediaType, CosignAnnotation, COSIGN_SIGN_PREDICATE } from './cosign.js';
export { parseSimpleSigning, parseStatement, claimProblem } from './payload.js';
export type { SimpleSigningClaim, StatementClaim } from './payload.js';
export { identityPolicy, parsePublicKey, identityProblem, describePolicy } from './policy.js';
export type { SignaturePolicy, Matcher, SignerIdentity, IdentityFlags } from './policy.js';
export { legacyToBundle, parseBundle, rekorEntry } from './legacy.js';
export { verifyCandidate, verifyBundle, verifyAttestation, sigstoreVerify } from './verify.js';
export type { SignatureCandidate, SignatureVerdict, SignatureScheme, VerifyContext } from './verify.js';
export { findSignatures } from './discover.js';
export type { AttachmentSource, ListReferrers, ReferrerDescriptor } from './discover.js';
export { findAttachments, formatOf, kindOf } from './attachments.js';
export type { Attachment, AttachmentFormat, AttachmentPlace } from './attachments.js';
export { blobBundle, verifyBlobBundle } from './blob.js';
export { loadTrustedRoot, parseTrustedRoot, defaultTrustedRootPath } from './trust.js';
export type { TrustedRoot } from './trust.js';
export { kairosSigning, isKairosImage } from './kairos-policy.js';
export type { KairosSigning } from './kairos-policy.js';
