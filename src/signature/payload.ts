/**
 * What a signature claims to sign, pure. Signatures are detached: the signed bytes must name the
 * image they belong to, or a valid signature of one image could be replayed onto another. cosign's
 * simple-signing payload names it in `critical.image.docker-manifest-digest`; an in-toto statement
 * (cosign v3 bundles, attestations) in `subject[].digest`. sigstore-js checks the signature over
 * the bytes; which image the bytes name is ours to check. Hand-written: the formats are a few
 * JSON fields and no library exposes just this check.
 */
import { parseDigest } from '../oci/digest.js';
import { SIMPLE_SIGNING_TYPE } from './cosign.js';
import { isRecord, jsonOf } from './json.js';

export interface SimpleSigningClaim {
  kind: 'simple-signing';
  /** `critical.image.docker-manifest-digest`. */
  digest: string;
  /** `critical.identity.docker-reference`. */
  dockerReference?: string | undefined;
}

export interface StatementClaim {
  kind: 'in-toto';
  /** sha256 hex digests of the statement's subjects. */
  subjects: string[];
  predicateType: string;
  predicate: unknown;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };


/** Reads a cosign simple-signing payload (sigstore/sigstore pkg/signature/payload). */
export function parseSimpleSigning(bytes: Uint8Array): Parsed<SimpleSigningClaim> {
  const doc = jsonOf(Buffer.from(bytes));
  if (!isRecord(doc) || !isRecord(doc.critical)) return { ok: false, problem: 'the payload is not a cosign simple-signing document (no "critical" object)' };
  const { critical } = doc;
  if (critical.type !== SIMPLE_SIGNING_TYPE) {
    return { ok: false, problem: `the payload's critical.type is ${JSON.stringify(critical.type)}, not "${SIMPLE_SIGNING_TYPE}"` };
  }
  const image = isRecord(critical.image) ? critical.image : {};
  const digest = image['docker-manifest-digest'];
  if (typeof digest !== 'string') return { ok: false, problem: 'the payload names no critical.image.docker-manifest-digest' };
  const identity = isRecord(critical.identity) ? critical.identity['docker-reference'] : undefined;
  return { ok: true, value: { kind: 'simple-signing', digest, dockerReference: typeof identity === 'string' ? identity : undefined } };
}

/** Reads an in-toto statement (v0.1 or v1): subjects' sha256 digests and the predicate. */
export function parseStatement(bytes: Uint8Array): Parsed<StatementClaim> {
  const doc = jsonOf(Buffer.from(bytes));
  if (!isRecord(doc) || typeof doc._type !== 'string' || !doc._type.startsWith('https://in-toto.io/Statement/')) {
    return { ok: false, problem: 'the envelope does not carry an in-toto statement' };
  }
  const subjects = Array.isArray(doc.subject) ? doc.subject : [];
  const hexes = subjects.flatMap((s) => (isRecord(s) && isRecord(s.digest) && typeof s.digest.sha256 === 'string' ? [s.digest.sha256.toLowerCase()] : []));
  return { ok: true, value: { kind: 'in-toto', subjects: hexes, predicateType: typeof doc.predicateType === 'string' ? doc.predicateType : '', predicate: doc.predicate } };
}

/** Why a claim does not belong to `digest` (a replay), or undefined when it names it. */
export function claimProblem(claim: SimpleSigningClaim | StatementClaim, digest: string): string | undefined {
  const want = parseDigest(digest);
  if (claim.kind === 'simple-signing') {
    if (claim.digest === digest) return undefined;
    return `the payload signs ${claim.digest}, not ${digest}: a signature of another image (replayed)`;
  }
  if (want.algorithm === 'sha256' && claim.subjects.includes(want.hex)) return undefined;
  const named = claim.subjects.length === 0 ? 'no subject' : claim.subjects.map((h) => `sha256:${h.slice(0, 12)}…`).join(', ');
  return `the statement's subject is ${named}, not ${digest}: a signature of another image (replayed)`;
}
