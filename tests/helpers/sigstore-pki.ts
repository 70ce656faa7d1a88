// A private Sigstore for tests, real cryptography, no network: a CA chain (root → intermediate →
// Fulcio-style leaf certificates with the OIDC issuer extensions and a SAN URI identity), a CT
// log key that issues SCTs for the leaves, a Rekor key that signs entry timestamps (SETs) and
// checkpoints, and the trusted_root.json naming them. Signing helpers produce exactly what cosign
// stores: legacy `.sig` layers (simple-signing payload + annotations) and v0.3 bundles.
import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign, webcrypto, type KeyObject } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { json as sigstoreJson } from '@sigstore/core';

type WebCryptoKey = webcrypto.CryptoKey;
interface CryptoKeyPair { publicKey: WebCryptoKey; privateKey: WebCryptoKey }
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';

// ── tiny DER helpers (lengths, one TLV) ───────────────────────────────────────────────────────
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}
/** The first element (full TLV) inside a DER SEQUENCE: a certificate's TBSCertificate. */
function firstElement(der: Buffer): Buffer {
  let i = 1;
  const lenByte = der[i++] as number;
  if (lenByte & 0x80) i += lenByte & 0x7f;
  const start = i;
  i++;
  const l = der[i++] as number;
  let len = l;
  if (l & 0x80) {
    len = 0;
    for (let k = 0; k < (l & 0x7f); k++) len = (len << 8) | (der[i++] as number);
  }
  return der.subarray(start, i + len);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export interface EcKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Buffer;
  /** sha256 of the SPKI: Rekor's and CT's log ID. */
  logId: Buffer;
}

export function ecKey(curve = 'prime256v1'): EcKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, spki, logId: createHash('sha256').update(spki).digest() };
}

export function pemOf(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function certPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

async function cryptoKeys(k: EcKey): Promise<CryptoKeyPair> {
  const s = webcrypto.subtle;
  const publicKey = await s.importKey('spki', k.spki, ECDSA_P256, true, ['verify']);
  const privateKey = await s.importKey('pkcs8', k.privateKey.export({ type: 'pkcs8', format: 'der' }), ECDSA_P256, true, ['sign']);
  return { publicKey, privateKey };
}

export interface LeafOptions {
  /** The signer's key (its public half goes into the certificate). */
  key: EcKey;
  identity: string;
  issuer: string;
  notBefore: Date;
  /** Validity in minutes (Fulcio: 10). */
  minutes?: number;
  /** Which issuer extension(s) to write. */
  issuerExtension?: 'v1' | 'v2' | 'both';
  sct?: boolean;
  /** Issue from another CA than the trusted one (an untrusted chain). */
  rogue?: boolean;
}

export interface TestPki {
  rekorBaseUrl: string;
  rekor: EcKey;
  ctlog: EcKey;
  rootDer: Buffer;
  intermediateDer: Buffer;
  /** trusted_root.json for this PKI (optionally without CT logs or tlogs). */
  trustedRoot(opts?: { ctlogs?: boolean; tlogs?: boolean }): Record<string, unknown>;
  issueLeaf(opts: LeafOptions): Promise<{ der: Buffer; pem: string }>;
  /** A Rekor entry for `body`, with its SET (and a one-leaf inclusion proof). */
  logEntry(body: Record<string, unknown>, integratedTime: Date, opts?: { signer?: EcKey; logIndex?: number }): LogEntry;
}

export interface LogEntry {
  canonicalBody: Buffer;
  integratedTime: number;
  logIndex: number;
  logIdHex: string;
  set: Buffer;
  /** cosign's `dev.sigstore.cosign/bundle` annotation text. */
  cosignAnnotation: string;
  /** The bundle v0.3 JSON form of this entry. */
  bundleEntry: Record<string, unknown>;
}

async function makeCa(name: string, key: EcKey, issuer: { name: string; keys: CryptoKeyPair } | undefined, pathLength: number | undefined): Promise<{ der: Buffer; keys: CryptoKeyPair; name: string }> {
  const keys = await cryptoKeys(key);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: createHash('sha256').update(name).digest('hex').slice(0, 16),
    subject: name,
    issuer: issuer?.name ?? name,
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2040-01-01T00:00:00Z'),
    publicKey: keys.publicKey,
    signingKey: (issuer?.keys ?? keys).privateKey,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...(issuer === undefined ? [] : [await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey)]),
    ],
  });
  return { der: Buffer.from(cert.rawData), keys, name };
}

function ecdsaSign(key: KeyObject, data: Buffer): Buffer {
  return cryptoSign('sha256', data, key);
}

/** The SCT list extension value for a precertificate TBS (RFC 6962 §3.2, §3.3). */
function sctExtension(ctlog: EcKey, issuerSpki: Buffer, tbs: Buffer, at: Date): x509.Extension {
  const ts = u64(at.getTime());
  const signed = Buffer.concat([Buffer.from([0, 0]), ts, u16(1), createHash('sha256').update(issuerSpki).digest(), u24(tbs.length), tbs, u16(0)]);
  const sig = ecdsaSign(ctlog.privateKey, signed);
  const sct = Buffer.concat([Buffer.from([0]), ctlog.logId, ts, u16(0), Buffer.from([4, 3]), u16(sig.length), sig]);
  const list = Buffer.concat([u16(sct.length + 2), u16(sct.length), sct]);
  return new x509.Extension(OID_SCT_LIST, false, tlv(0x04, list));
}

export async function createTestPki(opts: { rekorBaseUrl?: string } = {}): Promise<TestPki> {
  const rekorBaseUrl = opts.rekorBaseUrl ?? 'https://rekor.kairos-img.test';
  const rootKey = ecKey();
  const intermediateKey = ecKey();
  const root = await makeCa('CN=kairos-img test root,O=kairos-img.test', rootKey, undefined, 1);
  const intermediate = await makeCa('CN=kairos-img test intermediate,O=kairos-img.test', intermediateKey, root, 0);
  const rogueRoot = await makeCa('CN=kairos-img test root,O=kairos-img.test', ecKey(), undefined, 1);
  const rogueIntermediate = await makeCa('CN=kairos-img test intermediate,O=kairos-img.test', ecKey(), rogueRoot, 0);
  const rekor = ecKey();
  const ctlog = ecKey();
  let serial = 1;

  const tlogJson = (k: EcKey, baseUrl: string) => ({
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: k.spki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
    logId: { keyId: k.logId.toString('base64') },
  });

  return {
    rekorBaseUrl,
    rekor,
    ctlog,
    rootDer: root.der,
    intermediateDer: intermediate.der,
    trustedRoot(o = {}) {
      return {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: o.tlogs === false ? [] : [tlogJson(rekor, rekorBaseUrl)],
        certificateAuthorities: [{
          subject: { organization: 'kairos-img.test', commonName: 'kairos-img test' },
          uri: 'https://fulcio.kairos-img.test',
          certChain: { certificates: [{ rawBytes: intermediate.der.toString('base64') }, { rawBytes: root.der.toString('base64') }] },
          validFor: { start: '2020-01-01T00:00:00Z' },
        }],
        ctlogs: o.ctlogs === false ? [] : [tlogJson(ctlog, 'https://ctfe.kairos-img.test')],
        timestampAuthorities: [],
      };
    },

    async issueLeaf(l) {
      const ca = l.rogue === true ? rogueIntermediate : intermediate;
      const leafKey = await webcrypto.subtle.importKey('spki', l.key.spki, ECDSA_P256, true, ['verify']);
      const which = l.issuerExtension ?? 'both';
      const ext: x509.Extension[] = [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: l.identity }], true),
        await x509.SubjectKeyIdentifierExtension.create(leafKey),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
        ...(which === 'v1' || which === 'both' ? [new x509.Extension(OID_ISSUER_V1, false, Buffer.from(l.issuer, 'ascii'))] : []),
        ...(which === 'v2' || which === 'both' ? [new x509.Extension(OID_ISSUER_V2, false, tlv(0x0c, Buffer.from(l.issuer, 'utf8')))] : []),
      ];
      const params = {
        serialNumber: (0x1000 + serial++).toString(16),
        subject: '',
        issuer: ca.name,
        notBefore: l.notBefore,
        notAfter: new Date(l.notBefore.getTime() + (l.minutes ?? 10) * 60_000),
        publicKey: leafKey,
        signingKey: ca.keys.privateKey,
        signingAlgorithm: SIGN_ALG,
        extensions: ext,
      };
      let cert = await x509.X509CertificateGenerator.create(params);
      if (l.sct !== false) {
        const tbs = firstElement(Buffer.from(cert.rawData));
        const issuerSpki = Buffer.from(await webcrypto.subtle.exportKey('spki', ca.keys.publicKey));
        cert = await x509.X509CertificateGenerator.create({ ...params, extensions: [...ext, sctExtension(ctlog, issuerSpki, tbs, l.notBefore)] });
      }
      const der = Buffer.from(cert.rawData);
      return { der, pem: certPem(der) };
    },

    logEntry(body, integratedTime, o = {}) {
      const signer = o.signer ?? rekor;
      const logIndex = o.logIndex ?? 0;
      const canonicalBody = Buffer.from(sigstoreJson.canonicalize(body), 'utf8');
      const t = Math.floor(integratedTime.getTime() / 1000);
      const logIdHex = rekor.logId.toString('hex');
      const setPayload = { body: canonicalBody.toString('base64'), integratedTime: t, logIndex, logID: logIdHex };
      const set = ecdsaSign(signer.privateKey, Buffer.from(sigstoreJson.canonicalize(setPayload), 'utf8'));
      // A one-entry tree: the root hash is the leaf hash; the checkpoint signs it.
      const rootHash = createHash('sha256').update(Buffer.concat([Buffer.from([0]), canonicalBody])).digest();
      const origin = new URL(rekorBaseUrl).host;
      const note = `${origin} - test\n1\n${rootHash.toString('base64')}\n`;
      const noteSig = ecdsaSign(signer.privateKey, Buffer.from(note, 'utf8'));
      const envelope = `${note}\n\u2014 ${origin} ${Buffer.concat([rekor.logId.subarray(0, 4), noteSig]).toString('base64')}\n`;
      const kind = String(body.kind);
      const version = String(body.apiVersion);
      return {
        canonicalBody,
        integratedTime: t,
        logIndex,
        logIdHex,
        set,
        cosignAnnotation: JSON.stringify({ SignedEntryTimestamp: set.toString('base64'), Payload: { body: canonicalBody.toString('base64'), integratedTime: t, logIndex, logID: logIdHex } }),
        bundleEntry: {
          logIndex: String(logIndex),
          logId: { keyId: rekor.logId.toString('base64') },
          kindVersion: { kind, version },
          integratedTime: String(t),
          inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
          inclusionProof: { logIndex: '0', rootHash: rootHash.toString('base64'), treeSize: '1', hashes: [], checkpoint: { envelope } },
          canonicalizedBody: canonicalBody.toString('base64'),
        },
      };
    },
  };
}

// ── what cosign writes ──────────────────────────────────────────────────────────────────────

/** cosign's simple-signing payload for `digest` (sigstore/sigstore pkg/signature/payload, empty claimed identity). */
export function simpleSigningPayload(dockerReference: string, digest: string): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
}

/** Signs bytes as cosign does with a key of that type (ECDSA/RSA: SHA-256; Ed25519: the message itself). */
export function signWith(key: KeyObject, data: Buffer): Buffer {
  return cryptoSign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key);
}

/** Rekor's hashedrekord 0.0.1 body for a signature over `data` with a certificate (PEM). */
export function hashedRekordBody(data: Buffer, signature: Buffer, verifierPem: string): Record<string, unknown> {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(verifierPem).toString('base64') } },
    },
  };
}

/** DSSE pre-authentication encoding (DSSE v1). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const t = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

/** The in-toto statement `cosign sign` (v3, bundle format) signs for an image digest. */
export function cosignSignStatement(digest: string, predicateType = 'https://sigstore.dev/cosign/sign/v1', predicate: unknown = {}): Buffer {
  const [alg, hex] = digest.split(':') as [string, string];
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { [alg]: hex } }], predicateType, predicate }));
}

/** Rekor's dsse 0.0.1 body for an envelope signed with a certificate (PEM). */
export function dsseBody(envelope: { payload: Buffer; payloadType: string; sig: Buffer }, verifierPem: string): Record<string, unknown> {
  const envJson = JSON.stringify({ payload: envelope.payload.toString('base64'), payloadType: envelope.payloadType, signatures: [{ keyid: '', sig: envelope.sig.toString('base64') }] });
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update(envJson).digest('hex') },
      payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(envelope.payload).digest('hex') },
      signatures: [{ signature: envelope.sig.toString('base64'), verifier: Buffer.from(verifierPem).toString('base64') }],
    },
  };
}

export interface BundleOptions {
  payload: Buffer;
  payloadType?: string;
  signer: KeyObject;
  /** Keyless: the leaf certificate (DER); with a key: omitted (publicKey hint). */
  certDer?: Buffer | undefined;
  certPem?: string | undefined;
  entry?: LogEntry | undefined;
}

/** A v0.3 Sigstore bundle with a DSSE envelope, as `cosign sign` v3 stores it. */
export function dsseBundle(opts: BundleOptions & { pki?: TestPki; integratedTime?: Date }): { json: Record<string, unknown>; sig: Buffer } {
  const payloadType = opts.payloadType ?? 'application/vnd.in-toto+json';
  const sig = signWith(opts.signer, pae(payloadType, opts.payload));
  let entry = opts.entry;
  if (entry === undefined && opts.pki !== undefined && opts.certPem !== undefined) {
    entry = opts.pki.logEntry(dsseBody({ payload: opts.payload, payloadType, sig }, opts.certPem), opts.integratedTime ?? new Date());
  }
  return {
    sig,
    json: {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        ...(opts.certDer === undefined ? { publicKey: { hint: '' } } : { certificate: { rawBytes: opts.certDer.toString('base64') } }),
        tlogEntries: entry === undefined ? [] : [entry.bundleEntry],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      dsseEnvelope: { payload: opts.payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
    },
  };
}

export { createPublicKey };
