/**
 * `cosign sign-blob --bundle` files, pure: cosign v2 writes its own JSON
 * (`{base64Signature, cert, rekorBundle}`, cosign's LocalSignedPayload), cosign v3 (or
 * `--new-bundle-format`) a Sigstore bundle with a message signature over the blob. Both are
 * verified against the blob's bytes with the same policy as images. Kairos signs its `.sha256`
 * files this way (kairos-factory-action reusable-factory.yaml: `cosign sign-blob --bundle=<file>.bundle`).
 */
import { createHash } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { CosignAnnotation } from './cosign.js';
import { isRecord, jsonOf } from './json.js';
import { legacyToBundle, parseBundle } from './legacy.js';
import type { SignaturePolicy, SignerIdentity } from './policy.js';
import type { TrustedRoot } from './trust.js';
import { verifyBundle } from './verify.js';

/** The bundle a sign-blob file holds for `blob`, in either format. */
export function blobBundle(text: string, blob: Buffer): { ok: true; bundle: Bundle } | { ok: false; problem: string } {
  const doc = jsonOf(text);
  if (doc === undefined) return { ok: false, problem: 'the bundle file is not JSON' };
  if (isRecord(doc) && typeof doc.mediaType === 'string') return parseBundle(doc);
  if (!isRecord(doc) || typeof doc.base64Signature !== 'string') return { ok: false, problem: 'neither a Sigstore bundle nor a cosign sign-blob bundle (no base64Signature)' };
  const annotations: Record<string, string> = { [CosignAnnotation.signature]: doc.base64Signature };
  // cosign writes the certificate PEM base64-encoded once more.
  if (typeof doc.cert === 'string' && doc.cert !== '') annotations[CosignAnnotation.certificate] = doc.cert.includes('BEGIN') ? doc.cert : Buffer.from(doc.cert, 'base64').toString('utf8');
  if (doc.rekorBundle !== undefined && doc.rekorBundle !== null) annotations[CosignAnnotation.bundle] = JSON.stringify(doc.rekorBundle);
  return legacyToBundle({ blob, annotations, content: 'message' });
}

export function verifyBlobBundle(opts: { bundleText: string; blob: Buffer; policy: SignaturePolicy; trustedRoot: TrustedRoot }): { verified: boolean; reason: string; signer?: SignerIdentity } {
  const b = blobBundle(opts.bundleText, opts.blob);
  if (!b.ok) return { verified: false, reason: b.problem };
  const digest = `sha256:${createHash('sha256').update(opts.blob).digest('hex')}`;
  return verifyBundle(b.bundle, { digest, policy: opts.policy, trustedRoot: opts.trustedRoot, artifact: opts.blob, content: b.bundle.content.$case === 'messageSignature' ? 'signature' : 'attestation' });
}
