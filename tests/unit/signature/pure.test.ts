import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { attachmentTag, referrersTag } from '../../../src/signature/cosign.js';
import { claimProblem, parseSimpleSigning, parseStatement } from '../../../src/signature/payload.js';
import { describePolicy, identityPolicy, identityProblem } from '../../../src/signature/policy.js';
import { legacyToBundle, pemCertificates, rekorEntry } from '../../../src/signature/legacy.js';
import { attestationManifests, formatOf, isSbomPredicate, kindOf } from '../../../src/signature/attachments.js';
import { isKairosImage, kairosSigning } from '../../../src/signature/kairos-policy.js';
import { loadCatalog, parseCatalog } from '../../../src/catalog/index.js';
import { parseTrustedRoot } from '../../../src/signature/trust.js';
import { checkSignatures } from '../../../src/policy/image-checks.js';
import { simpleSigningPayload, cosignSignStatement } from '../../helpers/sigstore-pki.js';

const D = `sha256:${'12'.repeat(32)}`;
const E = `sha256:${'34'.repeat(32)}`;

describe('cosign names', () => {
  it('legacy attachment tags and the referrers tag schema', () => {
    expect(attachmentTag(D, 'sig')).toBe(`sha256-${'12'.repeat(32)}.sig`);
    expect(attachmentTag(D, 'att')).toMatch(/\.att$/);
    expect(referrersTag(D)).toBe(`sha256-${'12'.repeat(32)}`);
    expect(() => attachmentTag(`sha512:${'ab'.repeat(64)}`, 'sig')).toThrow(/not a sha256/);
  });
});

describe('payloads', () => {
  it('reads cosign\'s simple-signing payload and names a replay', () => {
    const p = parseSimpleSigning(simpleSigningPayload('quay.io/kairos/x', D));
    expect(p).toEqual({ ok: true, value: { kind: 'simple-signing', digest: D, dockerReference: 'quay.io/kairos/x' } });
    if (!p.ok) throw new Error('parse');
    expect(claimProblem(p.value, D)).toBeUndefined();
    expect(claimProblem(p.value, E)).toMatch(/signs sha256:1212.*not sha256:3434.*replayed/);
  });

  it('refuses other documents', () => {
    expect(parseSimpleSigning(Buffer.from('nope'))).toMatchObject({ ok: false });
    expect(parseSimpleSigning(Buffer.from(JSON.stringify({ critical: { type: 'x', image: { 'docker-manifest-digest': D } } })))).toMatchObject({ ok: false, problem: expect.stringMatching(/critical.type/) });
    expect(parseSimpleSigning(Buffer.from(JSON.stringify({ critical: { type: 'cosign container image signature', image: {} } })))).toMatchObject({ ok: false, problem: expect.stringMatching(/docker-manifest-digest/) });
  });

  it('in-toto statements: subjects by sha256, predicate type', () => {
    const s = parseStatement(cosignSignStatement(D));
    expect(s).toMatchObject({ ok: true, value: { subjects: ['12'.repeat(32)], predicateType: 'https://sigstore.dev/cosign/sign/v1' } });
    if (!s.ok) throw new Error('parse');
    expect(claimProblem(s.value, D)).toBeUndefined();
    expect(claimProblem(s.value, E)).toMatch(/replayed/);
    expect(parseStatement(Buffer.from('{"_type":"other"}'))).toMatchObject({ ok: false });
  });
});

describe('identity policy (cosign flag semantics)', () => {
  it('needs both halves and one form of each', () => {
    expect(identityPolicy({})).toBeUndefined();
    expect(() => identityPolicy({ certificateIdentity: 'x' })).toThrow(/certificate-oidc-issuer/);
    expect(() => identityPolicy({ certificateOidcIssuer: 'x' })).toThrow(/certificate-identity/);
    expect(() => identityPolicy({ certificateIdentity: 'a', certificateIdentityRegexp: 'b', certificateOidcIssuer: 'c' })).toThrow(/both given/);
    expect(() => identityPolicy({ certificateIdentityRegexp: '(', certificateOidcIssuer: 'c' })).toThrow(/not a valid regular expression/);
  });

  it('exact values match exactly, regexps anywhere unless anchored', () => {
    const exact = identityPolicy({ certificateIdentity: 'https://a/b', certificateOidcIssuer: 'https://i' });
    const re = identityPolicy({ certificateIdentityRegexp: 'a/b$', certificateOidcIssuerRegexp: '^https://i' });
    if (exact === undefined || re === undefined) throw new Error('policy');
    expect(identityProblem(exact, { identity: 'https://a/b', issuer: 'https://i' })).toBeUndefined();
    expect(identityProblem(exact, { identity: 'https://a/b/c', issuer: 'https://i' })).toMatch(/does not match "https:\/\/a\/b"/);
    expect(identityProblem(exact, { identity: 'https://a/b', issuer: 'https://j' })).toMatch(/issuer https:\/\/j/);
    expect(identityProblem(re, { identity: 'https://x/a/b', issuer: 'https://i.example' })).toBeUndefined();
    expect(identityProblem(re, { identity: 'https://x/a/b/', issuer: 'https://i' })).toMatch(/identity/);
    expect(identityProblem(re, { issuer: 'https://i' })).toMatch(/no identity/);
    expect(describePolicy(re)).toBe('identity /a/b$/, issuer /^https://i/ (the identity flags)');
  });
});

describe('legacy annotations → bundle', () => {
  it('reads the Rekor bundle annotation into a tlog entry', () => {
    const body = Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: {} })).toString('base64');
    const r = rekorEntry(JSON.stringify({ SignedEntryTimestamp: 'AAAA', Payload: { body, integratedTime: 1700000000, logIndex: 7, logID: 'ab'.repeat(32) } }));
    expect(r).toMatchObject({ ok: true, entry: { logIndex: '7', integratedTime: '1700000000', kindVersion: { kind: 'hashedrekord', version: '0.0.1' } } });
    expect(rekorEntry('{')).toMatchObject({ ok: false });
    expect(rekorEntry('{"SignedEntryTimestamp":"x","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"00"}}')).toMatchObject({ ok: false, problem: expect.stringMatching(/kind and apiVersion/) });
  });

  it('names what is missing instead of throwing', () => {
    expect(legacyToBundle({ blob: Buffer.from('x'), annotations: {}, content: 'message' })).toMatchObject({ ok: false, problem: expect.stringMatching(/dev.cosignproject.cosign\/signature/) });
    expect(legacyToBundle({ blob: Buffer.from('x'), annotations: { 'dev.cosignproject.cosign/signature': 'AA==', 'dev.sigstore.cosign/certificate': 'junk' }, content: 'message' })).toMatchObject({ ok: false, problem: expect.stringMatching(/no PEM certificate/) });
    expect(legacyToBundle({ blob: Buffer.from('[]'), annotations: {}, content: 'dsse' })).toMatchObject({ ok: false, problem: expect.stringMatching(/DSSE/) });
    const keyed = legacyToBundle({ blob: Buffer.from('payload'), annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' }, content: 'message' });
    expect(keyed.ok && keyed.bundle.verificationMaterial.content.$case).toBe('publicKey');
  });

  it('splits PEM chains', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nR0hJ\n-----END CERTIFICATE-----\n';
    expect(pemCertificates(pem)).toEqual(['QUJDREVG', 'R0hJ']);
  });
});

describe('attachments', () => {
  it('formats and kinds', () => {
    expect(formatOf('text/spdx+json')).toBe('spdx');
    expect(formatOf('application/vnd.cyclonedx+xml; charset=utf-8')).toBe('cyclonedx');
    expect(formatOf('application/vnd.in-toto+json')).toBe('in-toto');
    expect(formatOf('application/vnd.dsse.envelope.v1+json')).toBe('dsse');
    expect(formatOf('application/vnd.dev.sigstore.bundle.v0.3+json')).toBe('sigstore-bundle');
    expect(formatOf('application/octet-stream')).toBe('other');
    expect(kindOf('in-toto', 'https://spdx.dev/Document')).toBe('sbom');
    expect(kindOf('dsse', 'https://cyclonedx.org/bom')).toBe('sbom');
    expect(kindOf('dsse', 'https://slsa.dev/provenance/v1')).toBe('attestation');
    expect(isSbomPredicate(undefined)).toBe(false);
  });

  it('finds BuildKit attestation manifests in an index', () => {
    const m = (p: { os: string; architecture: string }, annotations?: Record<string, string>) => ({ mediaType: 'm', digest: D, size: 1, platform: p, ...(annotations === undefined ? {} : { annotations }) });
    const found = attestationManifests({ schemaVersion: 2, manifests: [
      m({ os: 'linux', architecture: 'amd64' }),
      m({ os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': E }),
      m({ os: 'unknown', architecture: 'unknown' }),
    ] });
    expect(found).toEqual([{ descriptor: expect.objectContaining({ digest: D }), subject: E }]);
  });
});

describe('the verify signatures check', () => {
  const base = { policy: 'key cosign.pub', reasons: [] as string[] };
  it('without an outcome: cosign tags as information (as before)', () => {
    expect(checkSignatures(D, [`sha256-${'12'.repeat(32)}.sig`])).toMatchObject({ ok: true, info: true, message: expect.stringMatching(/signature/) });
  });
  it('with an outcome: verified passes, a failing signature fails, none fails only when required', () => {
    expect(checkSignatures(D, [], { ...base, required: false, verified: true, found: 1, identity: 'id' })).toEqual({ id: 'signatures', ok: true, message: 'signed by id: satisfies key cosign.pub' });
    expect(checkSignatures(D, [], { ...base, required: false, verified: false, found: 1, reasons: ['wrong key'] })).toMatchObject({ ok: false, message: expect.stringMatching(/wrong key/) });
    expect(checkSignatures(D, [], { ...base, required: true, verified: false, found: 0 })).toMatchObject({ ok: false });
    expect(checkSignatures(D, [], { ...base, required: false, verified: false, found: 0 })).toMatchObject({ ok: true, info: true, message: expect.stringMatching(/^no cosign signature/) });
  });
});

describe('the Kairos release policy in flavors/kairos.yaml', () => {
  it('admits the Kairos release workflows and nothing else', async () => {
    const k = kairosSigning(await loadCatalog('kairos'));
    if (k === undefined) throw new Error('flavors/kairos.yaml has no signing section');
    const ok = (identity: string, issuer = 'https://token.actions.githubusercontent.com') => identityProblem(k.policy, { identity, issuer }) === undefined;
    expect(ok('https://github.com/kairos-io/kairos/.github/workflows/reusable-release.yaml@refs/tags/v3.2.1')).toBe(true);
    expect(ok('https://github.com/kairos-io/kairos-factory-action/.github/workflows/reusable-factory.yaml@e2108928941a741b690e3f879f46e5f0706ae565')).toBe(true);
    expect(ok('https://github.com/kairos-io/kairos-factory-action/.github/workflows/reusable-factory.yaml@v0.0.6')).toBe(true);
    expect(ok('https://github.com/evil/kairos/.github/workflows/release.yaml@refs/heads/main')).toBe(false);
    expect(ok('https://github.com/kairos-io.evil/kairos/.github/workflows/release.yaml@x')).toBe(false);
    expect(ok('https://github.com/kairos-io/kairos/.github/workflows/reusable-release.yaml@refs/tags/v3.2.1', 'https://accounts.google.com')).toBe(false);
    expect(isKairosImage({ registry: 'quay.io', repository: 'kairos/hadron' }, k)).toBe(true);
    expect(isKairosImage({ registry: 'mirror:5000', repository: 'kairos/hadron' }, k, 'mirror:5000')).toBe(true);
    expect(isKairosImage({ registry: 'ghcr.io', repository: 'kairos/hadron' }, k)).toBe(false);
  });

  it('a section without the facts, or with a pattern that is no regexp, is refused with the catalog', async () => {
    const text = await readFile(new URL('../../../flavors/kairos.yaml', import.meta.url), 'utf8');
    const broken = text.replace(/^ {2}issuer: .*$/m, '');
    expect(() => parseCatalog(broken, 'x.yaml')).toThrow(/signing.*issuer.*required/);
    const badRe = text.replace(/^ {2}identityRegexp: .*$/m, "  identityRegexp: '^(unclosed'");
    expect(() => parseCatalog(badRe, 'x.yaml')).toThrow(/signing.identityRegexp.*regular expression/);
  });
});

describe('trusted roots', () => {
  it('the shipped public-good root parses and names Fulcio and Rekor', async () => {
    const root = parseTrustedRoot(await readFile(new URL('../../../trust/trusted_root.json', import.meta.url), 'utf8'), 'trust/trusted_root.json');
    expect(root.certificateAuthorities.some((c) => c.uri === 'https://fulcio.sigstore.dev')).toBe(true);
    expect(root.tlogs.some((t) => t.baseUrl === 'https://rekor.sigstore.dev')).toBe(true);
    expect(root.ctlogs.length).toBeGreaterThan(0);
  });
  it('anything else is a usage error naming the file', () => {
    expect(() => parseTrustedRoot('{', 'r.json')).toThrow(/r.json is not a Sigstore trusted root: not JSON/);
    expect(() => parseTrustedRoot('{"mediaType":"application/json"}', 'r.json')).toThrow(/mediaType/);
  });
});
