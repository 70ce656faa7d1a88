// cosign signatures against the real registry: fixture images signed in cosign's exact legacy
// format (`sha256-<hex>.sig` manifests of simple-signing layers with cosign's annotations) and as
// Sigstore v0.3 bundles stored as referrers (tag schema), keys and a test CA chain generated here,
// `signature verify`, the gate of pull/unpack/extract-img, verify with the Kairos release policy.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/env.js';
import { json, runCli } from '../helpers/cli.js';
import { pushImage, pushReferrer, pushSigTag, type Desc } from '../helpers/oci-push.js';
import {
  cosignSignStatement, createTestPki, dsseBundle, ecKey, hashedRekordBody, pemOf, signWith, simpleSigningPayload, type TestPki,
} from '../helpers/sigstore-pki.js';

const env = testEnv();
const R = env.registry;
const ID = 'https://github.com/kairos-io/kairos-factory-action/.github/workflows/reusable-factory.yaml@refs/tags/v1.4.5';
const ISSUER = 'https://token.actions.githubusercontent.com';
const SIGNED_AT = new Date('2025-03-01T10:00:00Z');
let tmp = '';
let pki: TestPki;
let keyFile = '';
let otherKeyFile = '';
let rootFile = '';
let signer: { privateKey: KeyObject; publicKey: KeyObject };
const run = Math.random().toString(36).slice(2, 8);
const repo = (name: string): string => `sigtest-${run}/${name}`;
const images: Record<string, Desc & { raw: Buffer; layer: Desc }> = {};
const kairosRepo = (name: string): string => `kairos/sigtest-${run}-${name}`;
const d = (n: string): string => (images[n] as Desc).digest;

async function cli(args: string[]) {
  return runCli(['--plain-http', '--cache-dir', path.join(tmp, 'cache'), ...args], { env: { NO_COLOR: '1' } });
}

function legacyLayer(privateKey: KeyObject, reference: string, digest: string) {
  const payload = simpleSigningPayload(reference, digest);
  return { payload, annotations: { 'dev.cosignproject.cosign/signature': signWith(privateKey, payload).toString('base64') } };
}

async function keylessLayer(reference: string, digest: string, opts: { identity?: string; issuer?: string; log?: boolean } = {}) {
  const key = ecKey();
  const leaf = await pki.issueLeaf({ key, identity: opts.identity ?? ID, issuer: opts.issuer ?? ISSUER, notBefore: SIGNED_AT });
  const payload = simpleSigningPayload(reference, digest);
  const sig = signWith(key.privateKey, payload);
  const annotations: Record<string, string> = { 'dev.cosignproject.cosign/signature': sig.toString('base64'), 'dev.sigstore.cosign/certificate': leaf.pem, 'dev.sigstore.cosign/chain': '' };
  if (opts.log !== false) annotations['dev.sigstore.cosign/bundle'] = pki.logEntry(hashedRekordBody(payload, sig, leaf.pem), new Date(SIGNED_AT.getTime() + 30_000)).cosignAnnotation;
  return { payload, annotations };
}

async function layerBlobs(): Promise<string[]> {
  const dir = path.join(tmp, 'cache', 'blobs', 'sha256');
  return existsSync(dir) ? readdir(dir) : [];
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kimg-sig-'));
  pki = await createTestPki();
  rootFile = path.join(tmp, 'trusted_root.json');
  await writeFile(rootFile, JSON.stringify(pki.trustedRoot()));
  signer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  keyFile = path.join(tmp, 'cosign.pub');
  await writeFile(keyFile, pemOf(signer.publicKey));
  otherKeyFile = path.join(tmp, 'other.pub');
  await writeFile(otherKeyFile, pemOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey));

  for (const name of ['keyed', 'unsigned', 'replayed', 'corrupted', 'keyless', 'bundle', 'expired']) {
    images[name] = await pushImage(R, repo(name), 'v1', `${name}\n`);
  }
  // Images in Kairos' namespace, served by the local registry standing in for quay.io (--registry).
  for (const name of ['good', 'bad', 'none', 'keysigned']) {
    const k = kairosRepo(name);
    images[k] = await pushImage(R, k, 'v1', `${name}\n`);
  }
  await pushSigTag(R, kairosRepo('good'), d(kairosRepo('good')), [await keylessLayer(`quay.io/${kairosRepo('good')}`, d(kairosRepo('good')))]);
  await pushSigTag(R, kairosRepo('keysigned'), d(kairosRepo('keysigned')), [legacyLayer(signer.privateKey, `quay.io/${kairosRepo('keysigned')}`, d(kairosRepo('keysigned')))]);
  await pushSigTag(R, kairosRepo('bad'), d(kairosRepo('bad')), [await keylessLayer(`quay.io/${kairosRepo('bad')}`, d(kairosRepo('bad')), { identity: 'https://github.com/someone/fork/.github/workflows/release.yaml@refs/heads/main' })]);
  await pushSigTag(R, repo('keyed'), d('keyed'), [legacyLayer(signer.privateKey, `${R}/${repo('keyed')}`, d('keyed'))]);
  // A valid signature of the keyed image, copied onto another image's tag: a replay.
  await pushSigTag(R, repo('replayed'), d('replayed'), [legacyLayer(signer.privateKey, `${R}/${repo('keyed')}`, d('keyed'))]);
  const corrupt = legacyLayer(signer.privateKey, `${R}/${repo('corrupted')}`, d('corrupted'));
  const sig = Buffer.from(corrupt.annotations['dev.cosignproject.cosign/signature'], 'base64');
  sig.writeUInt8(sig.readUInt8(10) ^ 0x55, 10);
  await pushSigTag(R, repo('corrupted'), d('corrupted'), [{ payload: corrupt.payload, annotations: { 'dev.cosignproject.cosign/signature': sig.toString('base64') } }]);
  await pushSigTag(R, repo('keyless'), d('keyless'), [await keylessLayer(`${R}/${repo('keyless')}`, d('keyless'))]);
  await pushSigTag(R, repo('expired'), d('expired'), [await keylessLayer(`${R}/${repo('expired')}`, d('expired'), { log: false })]);
  // cosign v3: a DSSE bundle as a referrer, on a registry without the referrers API (tag schema).
  const key = ecKey();
  const leaf = await pki.issueLeaf({ key, identity: ID, issuer: ISSUER, notBefore: SIGNED_AT });
  const b = dsseBundle({ payload: cosignSignStatement(d('bundle')), signer: key.privateKey, certDer: leaf.der, certPem: leaf.pem, pki, integratedTime: new Date(SIGNED_AT.getTime() + 30_000) });
  await pushReferrer(R, repo('bundle'), images['bundle'] as Desc, {
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    layers: [{ data: Buffer.from(JSON.stringify(b.json)), mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
  });
}, 120_000);

afterAll(async () => {
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

const ref = (name: string): string => `${R}/${repo(name)}:v1`;
const keyless = ['--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER];

describe('signature verify', () => {
  it('a good key: exit 0, the JSON names the scheme and the verdict', async () => {
    const r = await cli(['signature', 'verify', ref('keyed'), '--key', keyFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ reference: string; digest: string; verified: boolean; signatures: Array<{ scheme: string; verified: boolean; reason: string }> }>(r);
    expect(d).toMatchObject({ reference: ref('keyed'), digest: images['keyed']?.digest, verified: true });
    expect(d.signatures).toEqual([expect.objectContaining({ scheme: 'cosign-legacy', verified: true })]);
  });

  it('a wrong key: exit 3', async () => {
    const r = await cli(['signature', 'verify', ref('keyed'), '--key', otherKeyFile]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/does not verify with other\.pub/);
  });

  it('a replayed payload: exit 3, naming the digest it really signs', async () => {
    const r = await cli(['signature', 'verify', ref('replayed'), '--key', keyFile, '--json']);
    expect(r.code).toBe(3);
    expect(json<{ signatures: Array<{ reason: string }> }>(r).signatures[0]?.reason).toContain(`signs ${images['keyed']?.digest}`);
  });

  it('a corrupted signature: exit 3', async () => {
    const r = await cli(['signature', 'verify', ref('corrupted'), '--key', keyFile]);
    expect(r.code).toBe(3);
  });

  it('unsigned: exit 3, "no signature found"', async () => {
    const r = await cli(['signature', 'verify', ref('unsigned'), '--key', keyFile, '--json']);
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ verified: false, signatures: [] });
  });

  it('keyless: the identity and issuer from the certificate, chained to --trusted-root', async () => {
    const r = await cli(['signature', 'verify', ref('keyless'), ...keyless, '--trusted-root', rootFile, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ verified: true, signatures: [{ scheme: 'cosign-legacy', verified: true, identity: ID, issuer: ISSUER }] });
  });

  it('keyless against the shipped public-good root: the test CA is not trusted (exit 3)', async () => {
    const r = await cli(['signature', 'verify', ref('keyless'), ...keyless]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/does not chain to the trusted root|signed timestamp does not verify/);
  });

  it('identity mismatch and issuer mismatch: exit 3', async () => {
    const a = await cli(['signature', 'verify', ref('keyless'), '--certificate-identity-regexp', '^https://github\\.com/someone-else/', '--certificate-oidc-issuer', ISSUER, '--trusted-root', rootFile]);
    expect(a.code).toBe(3);
    expect(a.stdout).toMatch(/identity .* does not match/);
    const b = await cli(['signature', 'verify', ref('keyless'), '--certificate-identity', ID, '--certificate-oidc-issuer', 'https://accounts.google.com', '--trusted-root', rootFile]);
    expect(b.code).toBe(3);
    expect(b.stdout).toMatch(/issuer .* does not match/);
  });

  it('an expired certificate without a log entry: exit 3', async () => {
    const r = await cli(['signature', 'verify', ref('expired'), ...keyless, '--trusted-root', rootFile]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/no verified transparency-log entry or timestamp/);
  });

  it('a cosign v3 bundle stored as a referrer (tag schema) verifies keyless', async () => {
    const r = await cli(['signature', 'verify', ref('bundle'), ...keyless, '--trusted-root', rootFile, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ verified: true, signatures: [{ scheme: 'sigstore-bundle', verified: true, identity: ID }] });
  });

  it('without a key or an identity policy, or with both: exit 2', async () => {
    expect((await cli(['signature', 'verify', ref('keyed')])).code).toBe(2);
    expect((await cli(['signature', 'verify', ref('keyed'), '--key', keyFile, ...keyless])).code).toBe(2);
    expect((await cli(['signature', 'verify', ref('keyed'), '--certificate-identity', ID])).code).toBe(2);
  });
});

describe('the gate of the commands that write', () => {
  it('pull of an unsigned image with --key: exit 3, no layout, no cached layer', async () => {
    const out = path.join(tmp, 'layout-unsigned');
    const r = await cli(['pull', ref('unsigned'), '--key', keyFile, '--to', `oci:${out}`]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/no signature satisfies key cosign\.pub/);
    expect(existsSync(out)).toBe(false);
    expect(await layerBlobs()).not.toContain(images['unsigned']?.layer.digest.slice(7));
  });

  it('unpack with a wrong key: exit 3, no target, no cached layer', async () => {
    const dir = path.join(tmp, 'rootfs-wrong');
    const r = await cli(['unpack', ref('keyed'), dir, '--key', otherKeyFile]);
    expect(r.code).toBe(3);
    expect(existsSync(dir)).toBe(false);
    expect(await layerBlobs()).not.toContain(images['keyed']?.layer.digest.slice(7));
  });

  it('unpack with the right key writes the tree; pull keyless records the check', async () => {
    const dir = path.join(tmp, 'rootfs-keyed');
    const r = await cli(['unpack', ref('keyed'), dir, '--key', keyFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'etc/marker'), 'utf8')).toBe('keyed\n');
    expect(json(r)).toMatchObject({ signature: { verified: true } });
    // The control for the gate tests above: a verified unpack does cache its layer.
    expect(await layerBlobs()).toContain(images['keyed']?.layer.digest.slice(7));
    const p = await cli(['pull', ref('bundle'), ...keyless, '--trusted-root', rootFile, '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(json(p)).toMatchObject({ signature: { verified: true, signatures: [{ identity: ID }] } });
  });

  it('unpack of a replayed signature: exit 3, nothing written', async () => {
    const dir = path.join(tmp, 'rootfs-replayed');
    const r = await cli(['unpack', ref('replayed'), dir, '--key', keyFile]);
    expect(r.code).toBe(3);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('verify and the Kairos release policy', () => {
  const signatures = (r: Awaited<ReturnType<typeof cli>>) => json<{ checks: Array<{ id: string; ok: unknown; info?: boolean; message: string }> }>(r).checks.find((c) => c.id === 'signatures');
  const kairos = (name: string): string[] => ['verify', `quay.io/${kairosRepo(name)}:v1`, '--registry', R, '--trusted-root', rootFile, '--json'];

  it('a Kairos image (through --registry) signed by a kairos-io workflow passes the signatures check', async () => {
    const r = await cli(kairos('good'));
    expect(signatures(r), r.stderr).toMatchObject({ ok: true });
    expect(signatures(r)?.message).toContain(ID);
  });

  it('a Kairos image signed by another identity fails the check: exit 3', async () => {
    const r = await cli(kairos('bad'));
    expect(r.code).toBe(3);
    expect(signatures(r)).toMatchObject({ ok: false });
    expect(signatures(r)?.message).toMatch(/Kairos release policy/);
  });

  it('an unsigned Kairos image is information, unless --require-signature', async () => {
    const r = await cli(kairos('none'));
    expect(signatures(r)).toMatchObject({ ok: true, info: true });
    const req = await cli([...kairos('none'), '--require-signature']);
    expect(req.code).toBe(3);
    expect(signatures(req)).toMatchObject({ ok: false });
  });

  it('a Kairos image signed with a key: the release policy cannot judge it (information); --key does', async () => {
    expect(signatures(await cli(kairos('keysigned')))).toMatchObject({ ok: true, info: true });
    const k = await cli(['verify', `quay.io/${kairosRepo('keysigned')}:v1`, '--registry', R, '--key', keyFile, '--json']);
    expect(signatures(k)).toMatchObject({ ok: true, message: expect.stringMatching(/satisfies key cosign\.pub/) });
  });

  it('other images: no policy unless given; --key fails an unsigned one and passes a signed one', async () => {
    expect(signatures(await cli(['verify', ref('unsigned'), '--json']))).toMatchObject({ info: true });
    const k = await cli(['verify', ref('unsigned'), '--key', keyFile, '--json']);
    expect(k.code).toBe(3);
    expect(signatures(k)).toMatchObject({ ok: false });
    expect(signatures(await cli(['verify', ref('keyed'), '--key', keyFile, '--json']))).toMatchObject({ ok: true });
  });
});

describe('extract-img and the sign-blob bundle of the .sha256 file', () => {
  const disk = Buffer.alloc(64 * 1024, 7);
  const sum = Buffer.from(`${createHash('sha256').update(disk).digest('hex')}  /build/kairos.img\n`);

  async function signBlob(data: Buffer): Promise<string> {
    // cosign v2 `sign-blob --bundle`: {base64Signature, cert (base64 PEM), rekorBundle}.
    const key = ecKey();
    const leaf = await pki.issueLeaf({ key, identity: ID, issuer: ISSUER, notBefore: SIGNED_AT });
    const sig = signWith(key.privateKey, data);
    const entry = pki.logEntry(hashedRekordBody(data, sig, leaf.pem), new Date(SIGNED_AT.getTime() + 10_000));
    return JSON.stringify({ base64Signature: sig.toString('base64'), cert: Buffer.from(leaf.pem).toString('base64'), rekorBundle: JSON.parse(entry.cosignAnnotation) as unknown });
  }

  beforeAll(async () => {
    const good = await signBlob(sum);
    const other = await signBlob(Buffer.from('something else\n'));
    for (const [name, bundle] of [['artifact-good', good], ['artifact-bad', other]] as const) {
      images[name] = await pushImage(R, repo(name), 'v1-img', '', [
        { path: 'build/kairos.img', content: disk }, { path: 'build/kairos.img.sha256', content: sum }, { path: 'build/kairos.img.sha256.bundle', content: bundle },
      ]);
      await pushSigTag(R, repo(name), d(name), [await keylessLayer(`${R}/${repo(name)}`, d(name))]);
    }
  });

  it('a bundle that signs the checksum file: verified, the files are written', async () => {
    const out = path.join(tmp, 'extract-good');
    const r = await cli(['extract-img', `${R}/${repo('artifact-good')}:v1-img`, '--out', out, ...keyless, '--trusted-root', rootFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ signature: { verified: true }, signedFiles: [{ file: 'kairos.img.sha256', verified: true, identity: ID }] });
    expect(await readFile(path.join(out, 'kairos.img'))).toEqual(disk);
  });

  it('a bundle of other content: exit 3 and nothing in --out', async () => {
    const out = path.join(tmp, 'extract-bad');
    const r = await cli(['extract-img', `${R}/${repo('artifact-bad')}:v1-img`, '--out', out, ...keyless, '--trusted-root', rootFile]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/kairos\.img\.sha256: its sign-blob bundle/);
    expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
  });

  it('an artifact whose image signature fails is stopped before extraction', async () => {
    const out = path.join(tmp, 'extract-wrongkey');
    const r = await cli(['extract-img', `${R}/${repo('artifact-good')}:v1-img`, '--out', out, '--key', keyFile]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no signature satisfies key cosign\.pub/);
    expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
  });
});
