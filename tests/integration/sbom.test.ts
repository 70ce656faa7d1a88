// `kairos-img sbom` against the real registry: an SBOM or attestation in each of the three places
// (cosign's legacy .sbom/.att tags, OCI referrers through the tag schema, a BuildKit attestation
// manifest inside the image index), listed with type, size and digest, downloaded byte-exact, and
// the attestations' DSSE envelopes verified with a key.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/env.js';
import { json, runCli } from '../helpers/cli.js';
import { OCI_INDEX, OCI_MANIFEST, pushAttachmentTag, pushBlob, pushImage, pushManifest, pushReferrer, type Desc } from '../helpers/oci-push.js';
import { cosignSignStatement, dsseBundle, pae, pemOf, signWith } from '../helpers/sigstore-pki.js';

const env = testEnv();
const R = env.registry;
const REPO = `sbomtest-${Math.random().toString(36).slice(2, 8)}/image`;
let tmp = '';
let keyFile = '';
let index: Desc;
const blobs: Record<string, Buffer> = {};
const signer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

interface Entry { place: string; kind: string; format: string; mediaType: string; predicateType?: string; digest: string; size: number; subject: string; path?: string; verified?: boolean; reason?: string }

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kimg-sbom-'));
  keyFile = path.join(tmp, 'cosign.pub');
  await writeFile(keyFile, pemOf(signer.publicKey));
  const image = await pushImage(R, REPO, 'v1-amd64', 'sbom\n');
  // BuildKit's attestation manifest: an in-toto SPDX statement about the image, in the index.
  blobs.buildkit = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document', subject: [{ name: 'pkg', digest: { sha256: image.digest.slice(7) } }], predicate: { spdxVersion: 'SPDX-2.3' } }));
  const att = await pushBlob(R, REPO, blobs.buildkit, 'application/vnd.in-toto+json', { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' });
  const attCfg = await pushBlob(R, REPO, Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [att.digest] } })), 'application/vnd.oci.image.config.v1+json');
  const attManifest = await pushManifest(R, REPO, sha(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: attCfg, layers: [att] }))), { schemaVersion: 2, mediaType: OCI_MANIFEST, config: attCfg, layers: [att] }, OCI_MANIFEST);
  index = await pushManifest(R, REPO, 'v1', {
    schemaVersion: 2, mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: OCI_MANIFEST, digest: attManifest.digest, size: attManifest.size, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': image.digest } },
    ],
  }, OCI_INDEX);
  // cosign attach sbom: the `.sbom` tag.
  blobs.spdx = Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'legacy' }));
  await pushAttachmentTag(R, REPO, index.digest, 'sbom', [{ payload: blobs.spdx, mediaType: 'text/spdx+json' }]);
  // cosign attest (v2): the `.att` tag, a DSSE envelope signed with the key.
  const statement = cosignSignStatement(index.digest, 'https://slsa.dev/provenance/v1', { builder: { id: 'test' } });
  const sig = signWith(signer.privateKey, pae('application/vnd.in-toto+json', statement));
  blobs.att = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: statement.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] }));
  await pushAttachmentTag(R, REPO, index.digest, 'att', [{ payload: blobs.att, mediaType: 'application/vnd.dsse.envelope.v1+json', annotations: { predicateType: 'https://slsa.dev/provenance/v1', 'dev.cosignproject.cosign/signature': '' } }]);
  // OCI referrers: a CycloneDX SBOM (oras attach) and a cosign v3 attestation bundle signed with another key.
  blobs.cdx = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5' }));
  await pushReferrer(R, REPO, index, { artifactType: 'application/vnd.cyclonedx+json', layers: [{ data: blobs.cdx, mediaType: 'application/vnd.cyclonedx+json' }] });
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  blobs.bundle = Buffer.from(JSON.stringify(dsseBundle({ payload: cosignSignStatement(index.digest, 'https://slsa.dev/provenance/v1'), signer: other.privateKey }).json));
  await pushReferrer(R, REPO, index, {
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    layers: [{ data: blobs.bundle, mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
  });
}, 120_000);

afterAll(async () => {
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

async function cli(args: string[]) {
  return runCli(['--plain-http', '--cache-dir', path.join(tmp, 'cache'), ...args], { env: { NO_COLOR: '1' } });
}

describe('sbom', () => {
  it('lists what each of the three places holds, with type, size and digest', async () => {
    const r = await cli(['sbom', `${R}/${REPO}:v1`, '--arch', 'amd64', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ digest: string; attachments: Entry[] }>(r);
    expect(d.digest).toBe(index.digest);
    const by = (digest: string) => d.attachments.find((a) => a.digest === digest);
    expect(by(sha(blobs.spdx as Buffer))).toMatchObject({ place: 'cosign-tag', kind: 'sbom', format: 'spdx', mediaType: 'text/spdx+json', size: blobs.spdx?.length, subject: index.digest });
    expect(by(sha(blobs.att as Buffer))).toMatchObject({ place: 'cosign-tag', kind: 'attestation', format: 'dsse', predicateType: 'https://slsa.dev/provenance/v1' });
    expect(by(sha(blobs.cdx as Buffer))).toMatchObject({ place: 'referrer', kind: 'sbom', format: 'cyclonedx' });
    expect(by(sha(blobs.bundle as Buffer))).toMatchObject({ place: 'referrer', kind: 'attestation', format: 'sigstore-bundle' });
    expect(by(sha(blobs.buildkit as Buffer))).toMatchObject({ place: 'attestation-manifest', kind: 'sbom', format: 'in-toto', predicateType: 'https://spdx.dev/Document' });
    expect(d.attachments).toHaveLength(5);
    expect(d.attachments.every((a) => a.verified === undefined)).toBe(true);
  });

  it('--out downloads each one byte-exact', async () => {
    const out = path.join(tmp, 'sboms');
    const r = await cli(['sbom', `${R}/${REPO}:v1`, '--arch', 'amd64', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    for (const a of json<{ attachments: Entry[] }>(r).attachments) {
      expect(a.path?.startsWith(out)).toBe(true);
      expect(sha(await readFile(a.path as string))).toBe(a.digest);
    }
  });

  it('with --key, the DSSE envelopes are verified: the key-signed one passes, the other fails (exit 3)', async () => {
    const r = await cli(['sbom', `${R}/${REPO}:v1`, '--arch', 'amd64', '--key', keyFile, '--json']);
    expect(r.code).toBe(3);
    const d = json<{ attachments: Entry[] }>(r);
    expect(d.attachments.find((a) => a.digest === sha(blobs.att as Buffer))).toMatchObject({ verified: true });
    expect(d.attachments.find((a) => a.digest === sha(blobs.bundle as Buffer))).toMatchObject({ verified: false, reason: expect.stringMatching(/does not verify/) });
    expect(d.attachments.find((a) => a.digest === sha(blobs.buildkit as Buffer))?.reason).toMatch(/unsigned in-toto statement/);
  });

  it('an image with nothing attached lists nothing', async () => {
    const bare = await pushImage(R, `${REPO}-bare`, 'v1', 'bare\n');
    const r = await cli(['sbom', `${R}/${REPO}-bare:v1`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ digest: bare.digest, attachments: [] });
  });
});
