import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedRoot, type TrustedRoot } from '../../../src/signature/trust.js';
import { identityPolicy, parsePublicKey, type SignaturePolicy } from '../../../src/signature/policy.js';
import { verifyCandidate, type SignatureCandidate } from '../../../src/signature/verify.js';
import {
  cosignSignStatement, createTestPki, dsseBundle, ecKey, hashedRekordBody, pemOf, signWith, simpleSigningPayload, type TestPki,
} from '../../helpers/sigstore-pki.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER = `sha256:${'cd'.repeat(32)}`;
const REPO = 'quay.io/kairos/core-opensuse';
const ID = 'https://github.com/kairos-io/kairos/.github/workflows/release.yaml@refs/tags/v3.1.0';
const ISSUER = 'https://token.actions.githubusercontent.com';
const SIGNED_AT = new Date('2024-05-01T12:00:00Z');

let pki: TestPki;
let root: TrustedRoot;

beforeAll(async () => {
  pki = await createTestPki();
  root = parseTrustedRoot(JSON.stringify(pki.trustedRoot()), 'test root');
});

function keyed(kind: 'ec' | 'rsa' | 'ed25519') {
  const pair = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    : kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return { ...pair, policy: parsePublicKey(pemOf(pair.publicKey), 'cosign.pub') };
}

function legacyKeyed(privateKey: Parameters<typeof signWith>[0], digest = DIGEST, payloadDigest = digest): SignatureCandidate {
  const payload = simpleSigningPayload(REPO, payloadDigest);
  return { scheme: 'cosign-legacy', where: 'sig', payload, annotations: { 'dev.cosignproject.cosign/signature': signWith(privateKey, payload).toString('base64') } };
}

const keyless = (over: { identity?: string; issuer?: string } = {}): SignaturePolicy =>
  identityPolicy({ certificateIdentity: over.identity ?? ID, certificateOidcIssuer: over.issuer ?? ISSUER }) as SignaturePolicy;

async function legacyKeyless(opts: { identity?: string; issuer?: string; log?: 'valid' | 'none' | 'forged' | 'late'; payloadDigest?: string; rogue?: boolean; issuerExtension?: 'v1' | 'v2' } = {}): Promise<SignatureCandidate> {
  const key = ecKey();
  const leaf = await pki.issueLeaf({ key, identity: opts.identity ?? ID, issuer: opts.issuer ?? ISSUER, notBefore: SIGNED_AT, rogue: opts.rogue, issuerExtension: opts.issuerExtension });
  const payload = simpleSigningPayload(REPO, opts.payloadDigest ?? DIGEST);
  const sig = signWith(key.privateKey, payload);
  const annotations: Record<string, string> = {
    'dev.cosignproject.cosign/signature': sig.toString('base64'),
    'dev.sigstore.cosign/certificate': leaf.pem,
    'dev.sigstore.cosign/chain': '',
  };
  const log = opts.log ?? 'valid';
  if (log !== 'none') {
    const when = log === 'late' ? new Date(SIGNED_AT.getTime() + 3600_000) : new Date(SIGNED_AT.getTime() + 60_000);
    const entry = pki.logEntry(hashedRekordBody(payload, sig, leaf.pem), when, log === 'forged' ? { signer: ecKey() } : {});
    annotations['dev.sigstore.cosign/bundle'] = entry.cosignAnnotation;
  }
  return { scheme: 'cosign-legacy', where: 'sig', payload, annotations };
}

describe('legacy .sig signatures with a key', () => {
  it.each(['ec', 'rsa', 'ed25519'] as const)('a %s key cosign allows verifies its own signature', (kind) => {
    const k = keyed(kind);
    const v = verifyCandidate(legacyKeyed(k.privateKey), { digest: DIGEST, policy: k.policy, trustedRoot: root });
    expect(v).toMatchObject({ verified: true, scheme: 'cosign-legacy' });
  });

  it('another key fails', () => {
    const signer = keyed('ec');
    const other = keyed('ec');
    const v = verifyCandidate(legacyKeyed(signer.privateKey), { digest: DIGEST, policy: other.policy, trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/does not verify with cosign\.pub/);
  });

  it('a valid signature of another image is a replay', () => {
    const k = keyed('ec');
    const v = verifyCandidate(legacyKeyed(k.privateKey, DIGEST, OTHER), { digest: DIGEST, policy: k.policy, trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/replayed/);
    expect(v.reason).toContain(OTHER);
  });

  it('a corrupted signature fails', () => {
    const k = keyed('ec');
    const c = legacyKeyed(k.privateKey) as Extract<SignatureCandidate, { scheme: 'cosign-legacy' }>;
    const sig = Buffer.from(c.annotations['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    sig.writeUInt8((sig.readUInt8(sig.length - 3) ^ 0xff) & 0xff, sig.length - 3);
    const v = verifyCandidate({ ...c, annotations: { 'dev.cosignproject.cosign/signature': sig.toString('base64') } }, { digest: DIGEST, policy: k.policy, trustedRoot: root });
    expect(v.verified).toBe(false);
  });

  it('a payload changed after signing fails', () => {
    const k = keyed('ed25519');
    const c = legacyKeyed(k.privateKey) as Extract<SignatureCandidate, { scheme: 'cosign-legacy' }>;
    const payload = Buffer.from(c.payload.toString().replace('"optional":null', '"optional":{}'));
    const v = verifyCandidate({ ...c, payload }, { digest: DIGEST, policy: k.policy, trustedRoot: root });
    expect(v.verified).toBe(false);
  });

  it('RSA keys below 2048 bits and other curves are refused as cosign refuses them', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parsePublicKey(pemOf(small.publicKey), 'k.pub')).toThrow(/1024-bit RSA/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(() => parsePublicKey(pemOf(k1.publicKey), 'k.pub')).toThrow(/secp256k1/);
    expect(() => parsePublicKey('not a key', 'k.pub')).toThrow(/not a PEM public key/);
  });
});

describe('legacy .sig signatures, keyless', () => {
  it('a Fulcio-style certificate from the trusted chain, with an SCT and a Rekor SET, verifies and names its identity', async () => {
    const v = verifyCandidate(await legacyKeyless(), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v).toMatchObject({ verified: true, identity: ID, issuer: ISSUER });
  });

  it.each(['v1', 'v2'] as const)('the issuer is read from the %s extension', async (ext) => {
    const v = verifyCandidate(await legacyKeyless({ issuerExtension: ext }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v).toMatchObject({ verified: true, issuer: ISSUER });
  });

  it('another identity fails, naming both', async () => {
    const v = verifyCandidate(await legacyKeyless({ identity: 'https://github.com/evil/fork/.github/workflows/release.yaml@refs/heads/main' }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/identity https:\/\/github.com\/evil\/fork.* does not match/);
  });

  it('another issuer fails', async () => {
    const v = verifyCandidate(await legacyKeyless({ issuer: 'https://accounts.google.com' }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/issuer https:\/\/accounts.google.com does not match/);
  });

  it('identity and issuer regexps match as cosign\'s (unanchored unless anchored)', async () => {
    const c = await legacyKeyless();
    const ok = identityPolicy({ certificateIdentityRegexp: '^https://github\\.com/kairos-io/', certificateOidcIssuerRegexp: 'githubusercontent' }) as SignaturePolicy;
    expect(verifyCandidate(c, { digest: DIGEST, policy: ok, trustedRoot: root }).verified).toBe(true);
    const anchored = identityPolicy({ certificateIdentityRegexp: '^kairos-io/', certificateOidcIssuer: ISSUER }) as SignaturePolicy;
    expect(verifyCandidate(c, { digest: DIGEST, policy: anchored, trustedRoot: root }).verified).toBe(false);
  });

  it('an expired certificate without a log entry fails: nothing proves it was valid when it signed', async () => {
    const v = verifyCandidate(await legacyKeyless({ log: 'none' }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/no verified transparency-log entry or timestamp/);
  });

  it('an expired certificate with a forged log entry fails', async () => {
    const v = verifyCandidate(await legacyKeyless({ log: 'forged' }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/signed timestamp does not verify/);
  });

  it('a log entry made after the certificate expired fails', async () => {
    const v = verifyCandidate(await legacyKeyless({ log: 'late' }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/certificate/);
  });

  it('a certificate from another CA with the same names fails', async () => {
    const v = verifyCandidate(await legacyKeyless({ rogue: true }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/does not chain to the trusted root/);
  });

  it('a keyless payload of another image is a replay', async () => {
    const v = verifyCandidate(await legacyKeyless({ payloadDigest: OTHER }), { digest: DIGEST, policy: keyless(), trustedRoot: root });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/replayed/);
  });

  it('without an SCT, a trusted root with CT logs refuses the certificate; one without CT logs accepts it', async () => {
    const key = ecKey();
    const leaf = await pki.issueLeaf({ key, identity: ID, issuer: ISSUER, notBefore: SIGNED_AT, sct: false });
    const payload = simpleSigningPayload(REPO, DIGEST);
    const sig = signWith(key.privateKey, payload);
    const entry = pki.logEntry(hashedRekordBody(payload, sig, leaf.pem), new Date(SIGNED_AT.getTime() + 1000));
    const c: SignatureCandidate = { scheme: 'cosign-legacy', where: 'sig', payload, annotations: {
      'dev.cosignproject.cosign/signature': sig.toString('base64'), 'dev.sigstore.cosign/certificate': leaf.pem, 'dev.sigstore.cosign/bundle': entry.cosignAnnotation,
    } };
    expect(verifyCandidate(c, { digest: DIGEST, policy: keyless(), trustedRoot: root }).reason).toMatch(/SCT/);
    const noCt = parseTrustedRoot(JSON.stringify(pki.trustedRoot({ ctlogs: false })), 'no-ct');
    expect(verifyCandidate(c, { digest: DIGEST, policy: keyless(), trustedRoot: noCt }).verified).toBe(true);
  });
});

describe('cosign v3 bundles (DSSE, in-toto statement)', () => {
  it('a keyless bundle with an inclusion proof verifies; its statement must name the digest', async () => {
    const key = ecKey();
    const leaf = await pki.issueLeaf({ key, identity: ID, issuer: ISSUER, notBefore: SIGNED_AT });
    const good = dsseBundle({ payload: cosignSignStatement(DIGEST), signer: key.privateKey, certDer: leaf.der, certPem: leaf.pem, pki, integratedTime: new Date(SIGNED_AT.getTime() + 5000) });
    const c: SignatureCandidate = { scheme: 'sigstore-bundle', where: 'ref', bundle: Buffer.from(JSON.stringify(good.json)) };
    expect(verifyCandidate(c, { digest: DIGEST, policy: keyless(), trustedRoot: root })).toMatchObject({ verified: true, identity: ID });
    expect(verifyCandidate(c, { digest: OTHER, policy: keyless(), trustedRoot: root }).reason).toMatch(/replayed/);
  });

  it('an attestation bundle is not a signature', async () => {
    const k = keyed('ec');
    const b = dsseBundle({ payload: cosignSignStatement(DIGEST, 'https://slsa.dev/provenance/v1'), signer: k.privateKey });
    const c: SignatureCandidate = { scheme: 'sigstore-bundle', where: 'ref', bundle: Buffer.from(JSON.stringify(b.json)) };
    expect(verifyCandidate(c, { digest: DIGEST, policy: k.policy, trustedRoot: root }).reason).toMatch(/attestation/);
  });

  it('a key-signed bundle verifies with the key and not keyless', () => {
    const k = keyed('ec');
    const b = dsseBundle({ payload: cosignSignStatement(DIGEST), signer: k.privateKey });
    const c: SignatureCandidate = { scheme: 'sigstore-bundle', where: 'ref', bundle: Buffer.from(JSON.stringify(b.json)) };
    expect(verifyCandidate(c, { digest: DIGEST, policy: k.policy, trustedRoot: root }).verified).toBe(true);
    expect(verifyCandidate(c, { digest: DIGEST, policy: keyless(), trustedRoot: root }).reason).toMatch(/signed with a key/);
  });

  it('garbage is reported, not thrown', () => {
    const k = keyed('ec');
    expect(verifyCandidate({ scheme: 'sigstore-bundle', where: 'x', bundle: Buffer.from('{') }, { digest: DIGEST, policy: k.policy, trustedRoot: root }).reason).toMatch(/not JSON/);
    expect(verifyCandidate({ scheme: 'sigstore-bundle', where: 'x', bundle: Buffer.from('{"mediaType":"nope"}') }, { digest: DIGEST, policy: k.policy, trustedRoot: root }).reason).toMatch(/not a valid Sigstore bundle/);
    expect(verifyCandidate({ scheme: 'cosign-legacy', where: 'x', payload: Buffer.from('[]'), annotations: {} }, { digest: DIGEST, policy: k.policy, trustedRoot: root }).reason).toMatch(/simple-signing/);
  });
});

describe('sign-blob bundles (the .sha256 files of Kairos artifacts)', () => {
  it('the Sigstore bundle format (cosign v3): a message signature over the file, keyless', async () => {
    const { verifyBlobBundle } = await import('../../../src/signature/blob.js');
    const blob = Buffer.from(`${'ef'.repeat(32)}  /build/kairos.img\n`);
    const key = ecKey();
    const leaf = await pki.issueLeaf({ key, identity: ID, issuer: ISSUER, notBefore: SIGNED_AT });
    const sig = signWith(key.privateKey, blob);
    const entry = pki.logEntry(hashedRekordBody(blob, sig, leaf.pem), new Date(SIGNED_AT.getTime() + 2000));
    const { createHash } = await import('node:crypto');
    const bundle = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { certificate: { rawBytes: leaf.der.toString('base64') }, tlogEntries: [entry.bundleEntry], timestampVerificationData: { rfc3161Timestamps: [] } },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(blob).digest('base64') }, signature: sig.toString('base64') },
    });
    expect(verifyBlobBundle({ bundleText: bundle, blob, policy: keyless(), trustedRoot: root })).toMatchObject({ verified: true, signer: { identity: ID } });
    const other = Buffer.from(blob.toString().replace('ef', 'aa'));
    expect(verifyBlobBundle({ bundleText: bundle, blob: other, policy: keyless(), trustedRoot: root }).verified).toBe(false);
    expect(verifyBlobBundle({ bundleText: '{"x":1}', blob, policy: keyless(), trustedRoot: root }).reason).toMatch(/neither a Sigstore bundle/);
  });
});
