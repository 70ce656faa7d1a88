/**
 * `signature verify`: name the image → its manifest (and index) → the signatures of its digest in
 * both cosign schemes → each one's verdict under the policy. Also the check `verify` and the gate
 * reuse: `checkImageSignatures` over a manifest already fetched.
 */
import { KairosImgError } from '../errors.js';
import { formatReference, type Reference } from '../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../registry/index.js';
import type { AttachmentSource } from '../signature/discover.js';
import { findSignatures } from '../signature/discover.js';
import { describePolicy, type SignaturePolicy } from '../signature/policy.js';
import { loadTrustedRoot, type TrustedRoot } from '../signature/trust.js';
import { verifyCandidate, type SignatureVerdict } from '../signature/verify.js';
import { getManifestExplained } from './client.js';
import { lazyClient, resolveTarget, type ImageSpec, type OperationOptions } from './common.js';
import { emitter, type SignatureCheckedEvent, type SignatureEvent } from './events.js';
import { signatureSource } from './signature-source.js';

/** Who must have signed, and what keyless signatures chain to. */
export interface SignatureRequirement {
  policy: SignaturePolicy;
  /** A trusted_root.json path, or one already parsed; default: the Sigstore public-good root shipped with kairos-img. */
  trustedRoot?: string | TrustedRoot | undefined;
}

export interface SignatureReport {
  reference: string;
  /** The digest the reference names (the index for a multi-arch image). */
  digest: string;
  verified: boolean;
  policy: string;
  signatures: Array<SignatureVerdict & { digest: string }>;
}

/** What a signature may name: the digest the tag names and, for an index, the platform's manifest (`cosign sign --recursive`). */
export function signedSubjects(m: Pick<ManifestResult, 'descriptor' | 'raw' | 'index'>): Array<{ digest: string; raw: Buffer }> {
  const top = m.index === undefined ? { digest: m.descriptor.digest, raw: m.raw } : { digest: m.index.descriptor.digest, raw: m.index.raw };
  return m.index === undefined ? [top] : [top, { digest: m.descriptor.digest, raw: m.raw }];
}

async function trustedRootOf(t: SignatureRequirement['trustedRoot']): Promise<TrustedRoot> {
  return typeof t === 'object' ? t : loadTrustedRoot(t);
}

/** Finds and judges every signature of the image `manifest` describes. */
export async function checkImageSignatures(opts: {
  client: RegistryClient;
  reference: Reference;
  manifest: Pick<ManifestResult, 'descriptor' | 'raw' | 'index'>;
  requirement: SignatureRequirement;
  source?: AttachmentSource | undefined;
  signal?: AbortSignal | undefined;
}): Promise<SignatureReport> {
  const root = await trustedRootOf(opts.requirement.trustedRoot);
  const source = opts.source ?? signatureSource(opts.client);
  const subjects = signedSubjects(opts.manifest);
  const signatures: SignatureReport['signatures'] = [];
  for (const s of subjects) {
    const found = await findSignatures({ source, repo: opts.reference, digest: s.digest, signal: opts.signal });
    for (const c of found) {
      signatures.push({ ...verifyCandidate(c, { digest: s.digest, policy: opts.requirement.policy, trustedRoot: root, subject: s.raw }), digest: s.digest });
    }
  }
  return {
    reference: formatReference(opts.reference),
    digest: (subjects[0] as { digest: string }).digest,
    verified: signatures.some((v) => v.verified),
    policy: describePolicy(opts.requirement.policy),
    signatures,
  };
}

export function checkedEvent(r: SignatureReport): SignatureCheckedEvent {
  return { type: 'signature-checked', verified: r.verified, found: r.signatures.length, policy: r.policy, identity: r.signatures.find((s) => s.verified)?.identity };
}

/** The verdict as an error (exit 3): no signature satisfies the policy, and why each one did not. */
export function signatureFailure(r: SignatureReport): KairosImgError {
  const why = r.signatures.length === 0
    ? 'no signature found (neither a cosign .sig tag nor a Sigstore bundle referrer)'
    : r.signatures.map((s) => `${s.scheme}: ${s.reason}`).join('; ');
  return new KairosImgError('SIGNATURE_NOT_VERIFIED', `${r.reference} (${r.digest.slice(0, 19)}…): no signature satisfies ${r.policy}: ${why}`, {
    hint: r.signatures.length === 0
      ? 'the image is unsigned, or its signatures are in another repository; nothing was downloaded or written'
      : 'check --key / --certificate-identity / --certificate-oidc-issuer (and --trusted-root for a private PKI); nothing was downloaded or written',
    details: { signature: r },
  });
}

export interface SignatureVerifyOptions extends OperationOptions<SignatureEvent> {
  image: ImageSpec;
  signature: SignatureRequirement;
}

/** Verifies the image's signatures; the report says which satisfied the policy (none: `verified: false`). */
export async function verifyImageSignature(opts: SignatureVerifyOptions): Promise<SignatureReport> {
  const emit = emitter(opts.onEvent);
  const client = lazyClient(opts, emit);
  const target = await resolveTarget({ ...opts, tags: client.tags(), emit });
  const m = await getManifestExplained(client.get(), target.reference, { platform: target.platform, signal: opts.signal });
  emit({ type: 'manifest', digest: m.descriptor.digest, indexDigest: m.index?.descriptor.digest, layers: m.manifest.layers.length, size: m.manifest.layers.reduce((a, l) => a + l.size, 0), fromCache: false });
  const report = await checkImageSignatures({ client: client.get(), reference: target.reference, manifest: m, requirement: opts.signature, signal: opts.signal });
  emit(checkedEvent(report));
  return report;
}
