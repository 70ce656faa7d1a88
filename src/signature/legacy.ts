/**
 * cosign's legacy attachments → Sigstore bundles, pure. A `.sig` layer carries the simple-signing
 * payload as its blob and everything else in annotations (SIGNATURE_SPEC.md): the base64 signature,
 * the PEM certificate, the Rekor entry with its signed entry timestamp. sigstore-js verifies
 * bundles only, so the annotations are rewritten into the v0.1 bundle JSON they correspond to
 * (certificate chain of the leaf, tlog entry with an inclusion promise) and parsed and validated
 * by `@sigstore/bundle`; the same for `.att` layers, whose blob is the DSSE envelope itself.
 * cosign's own `bundle upgrade` does this conversion in Go; no JavaScript library does.
 */
import { bundleFromJSON, type Bundle, type SerializedBundle } from '@sigstore/bundle';
import { createHash } from 'node:crypto';
import { CosignAnnotation } from './cosign.js';
import { isRecord, jsonOf } from './json.js';

export const BUNDLE_V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

type Converted = { ok: true; bundle: Bundle } | { ok: false; problem: string };

/** The DER bytes (base64) of every certificate in a PEM text, in order. */
export function pemCertificates(pem: string): string[] {
  const out: string[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m !== null; m = re.exec(pem)) out.push((m[1] ?? '').replace(/\s+/g, ''));
  return out;
}

/**
 * The tlog entry of cosign's `dev.sigstore.cosign/bundle` annotation (or `rekorBundle` of a
 * `sign-blob --bundle` file): `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`.
 */
export function rekorEntry(text: string | unknown): { ok: true; entry: NonNullable<SerializedBundle['verificationMaterial']['tlogEntries']>[number] } | { ok: false; problem: string } {
  let doc: unknown = text;
  if (typeof text === 'string') {
    try {
      doc = JSON.parse(text);
    } catch {
      return { ok: false, problem: 'the Rekor bundle annotation is not JSON' };
    }
  }
  if (!isRecord(doc) || !isRecord(doc.Payload) || typeof doc.SignedEntryTimestamp !== 'string') {
    return { ok: false, problem: 'the Rekor bundle has no SignedEntryTimestamp and Payload' };
  }
  const p = doc.Payload;
  if (typeof p.body !== 'string' || typeof p.logID !== 'string' || typeof p.integratedTime !== 'number' || typeof p.logIndex !== 'number') {
    return { ok: false, problem: 'the Rekor bundle payload lacks body, integratedTime, logIndex or logID' };
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(p.body, 'base64').toString('utf8'));
  } catch {
    return { ok: false, problem: 'the Rekor entry body is not base64 JSON' };
  }
  if (!isRecord(body) || typeof body.kind !== 'string' || typeof body.apiVersion !== 'string') {
    return { ok: false, problem: 'the Rekor entry body names no kind and apiVersion' };
  }
  return {
    ok: true,
    entry: {
      logIndex: String(p.logIndex),
      logId: { keyId: Buffer.from(p.logID, 'hex').toString('base64') },
      kindVersion: { kind: body.kind, version: body.apiVersion },
      integratedTime: String(p.integratedTime),
      inclusionPromise: { signedEntryTimestamp: doc.SignedEntryTimestamp },
      inclusionProof: undefined,
      canonicalizedBody: p.body,
    },
  };
}

export interface LegacyLayer {
  /** The layer's blob: the simple-signing payload (`.sig`) or a DSSE envelope (`.att`). */
  blob: Buffer;
  annotations: Readonly<Record<string, string>>;
  /** `message`: the blob is the signed payload; `dsse`: the blob is the envelope. */
  content: 'message' | 'dsse';
}

/** A legacy layer as a bundle for sigstore-js; the problem when the annotations cannot make one. */
export function legacyToBundle(layer: LegacyLayer): Converted {
  const a = layer.annotations;
  const certs = a[CosignAnnotation.certificate] === undefined ? [] : pemCertificates(a[CosignAnnotation.certificate] ?? '');
  if (a[CosignAnnotation.certificate] !== undefined && certs.length === 0) return { ok: false, problem: 'the certificate annotation holds no PEM certificate' };
  const tlogEntries: NonNullable<SerializedBundle['verificationMaterial']['tlogEntries']> = [];
  if (a[CosignAnnotation.bundle] !== undefined) {
    const r = rekorEntry(a[CosignAnnotation.bundle]);
    if (!r.ok) return r;
    tlogEntries.push(r.entry);
  }
  const verificationMaterial: SerializedBundle['verificationMaterial'] = {
    // The leaf alone: the chain annotation is the signer's claim; trust comes from the trusted root.
    ...(certs.length > 0
      ? { x509CertificateChain: { certificates: [{ rawBytes: certs[0] ?? '' }] }, publicKey: undefined, certificate: undefined }
      : { publicKey: { hint: '' }, x509CertificateChain: undefined, certificate: undefined }),
    tlogEntries,
    timestampVerificationData: { rfc3161Timestamps: [] },
  };
  let serialized: SerializedBundle;
  if (layer.content === 'message') {
    const sig = a[CosignAnnotation.signature];
    if (sig === undefined || sig === '') return { ok: false, problem: `the layer has no ${CosignAnnotation.signature} annotation` };
    serialized = {
      mediaType: BUNDLE_V01,
      verificationMaterial,
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(layer.blob).digest('base64') },
        signature: sig,
      },
    } as SerializedBundle;
  } else {
    const env = jsonOf(layer.blob);
    if (!isRecord(env) || typeof env.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures)) {
      return { ok: false, problem: 'the attestation layer is not a DSSE envelope' };
    }
    serialized = { mediaType: BUNDLE_V01, verificationMaterial, dsseEnvelope: env } as unknown as SerializedBundle;
  }
  return parseBundle(serialized);
}

/** A bundle as stored (JSON bytes), parsed and validated. */
export function parseBundleBytes(bytes: Buffer | string): Converted {
  const json = jsonOf(bytes);
  return json === undefined ? { ok: false, problem: 'the bundle is not JSON' } : parseBundle(json);
}

/** Parses and validates bundle JSON with `@sigstore/bundle` (v0.1 needs inclusion promises, v0.2+ inclusion proofs). */
export function parseBundle(json: unknown): Converted {
  try {
    return { ok: true, bundle: bundleFromJSON(json) };
  } catch (e) {
    const fields = (e as { fields?: unknown }).fields;
    return { ok: false, problem: `not a valid Sigstore bundle: ${(e as Error).message}${Array.isArray(fields) && fields.length > 0 ? ` (${fields.join(', ')})` : ''}` };
  }
}
