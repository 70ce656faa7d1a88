/**
 * One signature's verdict. What is ours: the payload names the digest being verified (no replay),
 * the identity policy, which key to use. What is sigstore-js's (`@sigstore/verify`): the signature
 * over the bytes, the certificate chain to the trusted root at the time a transparency-log entry
 * (or timestamp) proves, the SCTs and tlog entries the trusted root requires, the tlog body
 * matching the signature. No I/O: the caller hands in the bytes it fetched.
 */
import { verify as cryptoVerify } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier, type SignedEntity } from '@sigstore/verify';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { COSIGN_SIGN_PREDICATE, CosignAnnotation, CosignMediaType } from './cosign.js';
import { legacyToBundle, parseBundleBytes } from './legacy.js';
import { claimProblem, parseSimpleSigning, parseStatement } from './payload.js';
import { identityProblem, type SignaturePolicy, type SignerIdentity } from './policy.js';

export type SignatureScheme = 'cosign-legacy' | 'sigstore-bundle';

/** A signature found for an image, with the bytes needed to judge it. */
export type SignatureCandidate =
  | {
      scheme: 'cosign-legacy';
      /** Where it was found: `<repo>:sha256-<hex>.sig` layer N. */
      where: string;
      /** The layer's blob (the simple-signing payload) and its annotations. */
      payload: Buffer;
      annotations: Readonly<Record<string, string>>;
    }
  | {
      scheme: 'sigstore-bundle';
      where: string;
      /** The bundle JSON as stored in the referrer's layer. */
      bundle: Buffer;
    };

export interface SignatureVerdict {
  scheme: SignatureScheme;
  where: string;
  /** False for a signature made with a key (no certificate): an identity policy cannot judge it without the key. */
  keyless: boolean;
  verified: boolean;
  reason: string;
  identity?: string | undefined;
  issuer?: string | undefined;
}

export interface VerifyContext {
  /** The digest the signature must name (the image's manifest or index). */
  digest: string;
  policy: SignaturePolicy;
  trustedRoot: TrustedRoot;
  /** The bytes `digest` names: a message-signature bundle signs them directly. */
  subject?: Buffer | undefined;
}

/** Human words for sigstore-js's error codes; its message follows. */
const STEP: Record<string, string> = {
  SIGNATURE_ERROR: 'the signature does not verify',
  CERTIFICATE_ERROR: 'the certificate does not chain to the trusted root when it signed',
  TIMESTAMP_ERROR: 'no verified transparency-log entry or timestamp proves the certificate was valid when it signed',
  TLOG_ERROR: 'the transparency-log entry the trusted root requires is missing',
  TLOG_INCLUSION_PROMISE_ERROR: 'the transparency-log entry\'s signed timestamp does not verify with a trusted log key',
  TLOG_INCLUSION_PROOF_ERROR: 'the transparency-log inclusion proof does not verify',
  TLOG_MISSING_INCLUSION_ERROR: 'the transparency-log entry has neither an inclusion promise nor a proof',
  TLOG_BODY_ERROR: 'the transparency-log entry is for other content',
  PUBLIC_KEY_ERROR: 'the key is not valid',
};

function keylessCandidate(c: SignatureCandidate, bundle?: Bundle): boolean {
  if (c.scheme === 'cosign-legacy') return c.annotations[CosignAnnotation.certificate] !== undefined;
  return bundle === undefined || bundle.verificationMaterial.content.$case !== 'publicKey';
}

function verdict(c: SignatureCandidate, verified: boolean, reason: string, signer?: SignerIdentity, bundle?: Bundle): SignatureVerdict {
  return { scheme: c.scheme, where: c.where, keyless: keylessCandidate(c, bundle), verified, reason, ...(signer?.identity === undefined ? {} : { identity: signer.identity }), ...(signer?.issuer === undefined ? {} : { issuer: signer.issuer }) };
}

function describeError(e: unknown, policy: SignaturePolicy): string {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  const cause = (e as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? `${message}: ${cause.message}` : message;
  if (code === 'SIGNATURE_ERROR' && policy.kind === 'key') return `the signature does not verify with ${policy.label}`;
  const step = typeof code === 'string' ? STEP[code] : undefined;
  return step === undefined ? detail : `${step} (${detail})`;
}

/** What the bundle signs must name `digest`; a message-signature bundle must sign `subject` itself. */
function contentProblem(bundle: Bundle, ctx: VerifyContext, requireCosignPredicate: boolean): string | undefined {
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    if (env.payloadType !== CosignMediaType.inTotoPayload) return `the envelope's payloadType is ${env.payloadType}, not an in-toto statement`;
    const st = parseStatement(env.payload);
    if (!st.ok) return st.problem;
    if (requireCosignPredicate && st.value.predicateType !== COSIGN_SIGN_PREDICATE) {
      return `an attestation (${st.value.predicateType || 'no predicate type'}), not a cosign signature`;
    }
    return claimProblem(st.value, ctx.digest);
  }
  const md = bundle.content.messageSignature.messageDigest;
  const hex = md === undefined ? '' : Buffer.from(md.digest).toString('hex');
  if (!ctx.digest.startsWith('sha256:') || hex !== ctx.digest.slice(7)) {
    return `the message signature covers sha256:${hex.slice(0, 12)}…, not ${ctx.digest}: a signature of other content (replayed)`;
  }
  return undefined;
}

/**
 * Runs sigstore-js on a bundle. A key policy replaces the bundle's key material with the key (as
 * `cosign verify --key` does): no certificate or timestamp is needed, but tlog entries that are
 * present must still verify. A keyless policy needs a timestamp and the tlog entries and SCTs the
 * trusted root lists logs for.
 */
export function sigstoreVerify(bundle: Bundle, artifact: Buffer | undefined, policy: SignaturePolicy, root: TrustedRoot): SignerIdentity {
  const entity: SignedEntity = toSignedEntity(bundle, artifact);
  if (policy.kind === 'key') {
    const material = toTrustMaterial(root, () => ({ publicKey: policy.key, validFor: () => true }));
    const signature = entity.signature;
    const ed25519 = policy.key.asymmetricKeyType === 'ed25519' && bundle.content.$case === 'messageSignature' && artifact !== undefined;
    const keyed: SignedEntity = {
      ...entity,
      key: { $case: 'public-key', hint: 'kairos-img --key' },
      // sigstore-js 3.1 hashes message signatures with SHA-256 even for Ed25519, which signs the
      // message itself (as cosign does with ed25519 keys); that one case is checked here.
      signature: ed25519
        ? { ...signature, compareSignature: (s) => signature.compareSignature(s), compareDigest: (d) => signature.compareDigest(d), verifySignature: (key) => cryptoVerify(null, artifact, key, signature.signature) }
        : signature,
    };
    new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(keyed);
    return {};
  }
  const material = toTrustMaterial(root);
  const signer = new Verifier(material, {
    tlogThreshold: root.tlogs.length > 0 ? 1 : 0,
    ctlogThreshold: root.ctlogs.length > 0 ? 1 : 0,
    timestampThreshold: 1,
  }).verify(entity);
  return { identity: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer };
}

/** Checks a bundle (already parsed) for `ctx.digest` under the policy. */
export function verifyBundle(bundle: Bundle, opts: VerifyContext & {
  artifact?: Buffer | undefined;
  /** `signature`: a cosign signature of `digest`; `attestation`: any statement about it; `checked`: the caller checked what the bytes name. */
  content: 'signature' | 'attestation' | 'checked';
}): { verified: boolean; reason: string; signer?: SignerIdentity } {
  const problem = opts.content === 'checked' ? undefined : contentProblem(bundle, opts, opts.content === 'signature');
  if (problem !== undefined) return { verified: false, reason: problem };
  if (opts.policy.kind === 'identity' && bundle.verificationMaterial.content.$case === 'publicKey') {
    return { verified: false, reason: 'signed with a key, not keyless: verify it with --key' };
  }
  const artifact = bundle.content.$case === 'messageSignature' ? opts.artifact : undefined;
  if (bundle.content.$case === 'messageSignature' && artifact === undefined) return { verified: false, reason: 'the signed content is not available to check the signature against' };
  let signer: SignerIdentity;
  try {
    signer = sigstoreVerify(bundle, artifact, opts.policy, opts.trustedRoot);
  } catch (e) {
    return { verified: false, reason: describeError(e, opts.policy) };
  }
  const mismatch = identityProblem(opts.policy, signer);
  if (mismatch !== undefined) return { verified: false, reason: mismatch, signer };
  return { verified: true, reason: opts.policy.kind === 'key' ? `signed with ${opts.policy.label}` : 'signed by the required identity', signer };
}

/** The verdict on one signature of the image `ctx.digest`. */
export function verifyCandidate(c: SignatureCandidate, ctx: VerifyContext): SignatureVerdict {
  if (c.scheme === 'cosign-legacy') {
    const claim = parseSimpleSigning(c.payload);
    if (!claim.ok) return verdict(c, false, claim.problem);
    const replay = claimProblem(claim.value, ctx.digest);
    if (replay !== undefined) return verdict(c, false, replay);
    const converted = legacyToBundle({ blob: c.payload, annotations: c.annotations, content: 'message' });
    if (!converted.ok) return verdict(c, false, converted.problem);
    const r = verifyBundle(converted.bundle, { ...ctx, artifact: c.payload, content: 'checked' });
    return verdict(c, r.verified, r.reason, r.signer);
  }
  const parsed = parseBundleBytes(c.bundle);
  if (!parsed.ok) return verdict(c, false, parsed.problem);
  const r = verifyBundle(parsed.bundle, { ...ctx, artifact: ctx.subject, content: 'signature' });
  return verdict(c, r.verified, r.reason, r.signer, parsed.bundle);
}

/** An attestation's signature (a legacy `.att` DSSE layer with cosign's annotations, or a Sigstore bundle) under the policy. */
export function verifyAttestation(opts: {
  blob: Buffer;
  format: 'dsse' | 'sigstore-bundle' | 'in-toto' | 'spdx' | 'cyclonedx' | 'other';
  annotations: Readonly<Record<string, string>>;
} & VerifyContext): { verified: boolean; reason: string; signer?: SignerIdentity } {
  if (opts.format === 'in-toto') return { verified: false, reason: 'an unsigned in-toto statement (no DSSE envelope to verify)' };
  if (opts.format !== 'dsse' && opts.format !== 'sigstore-bundle') return { verified: false, reason: 'a plain document: only attestations carry their own signature' };
  let bundle: Bundle;
  if (opts.format === 'dsse') {
    const converted = legacyToBundle({ blob: opts.blob, annotations: opts.annotations, content: 'dsse' });
    if (!converted.ok) return { verified: false, reason: converted.problem };
    bundle = converted.bundle;
  } else {
    const parsed = parseBundleBytes(opts.blob);
    if (!parsed.ok) return { verified: false, reason: parsed.problem };
    bundle = parsed.bundle;
  }
  return verifyBundle(bundle, { ...opts, content: 'attestation' });
}
