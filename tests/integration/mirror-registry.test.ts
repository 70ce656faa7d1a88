// `kairos-img mirror` to registries (issue 17): digests identical and multi-arch kept on another
// registry, mounts within one registry, a second run that copies nothing, a cut mid-blob (download
// and upload) resumed, back out of a layout into a registry, cosign tags and referrers with
// --with-signatures.
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { mirror, parseMirrorDestination, type MirrorReport } from '../../src/operations/mirror.js';
import { artifactAttach } from '../../src/operations/artifact-push.js';
import { createRegistryClient, listReferrers, staticCredentials, type RegistryEvent } from '../../src/registry/index.js';
import { testEnv } from '../helpers/env.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { json, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
const env = testEnv();
let work: string;
let dockerConfig: string;
const run = randomBytes(3).toString('hex');

const MULTI = `${env.registry}/kairos/core-opensuse:v1.4.0`;
const LAYERS = `${env.registry}/test/layers-oci:v1`;

type Report = MirrorReport;

function cli(args: string[]) {
  return runCli(['--plain-http', ...args], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), DOCKER_CONFIG: dockerConfig } });
}

async function mirrorOk(args: string[]): Promise<Report> {
  const r = await cli(['mirror', ...args, '--json', '-q']);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return json<Report>(r);
}

async function raw(ref: string, creds = false): Promise<Buffer> {
  const args = ['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', `${env.basicUser}:${env.basicPass}`] : []), `docker://${ref}`];
  return (await exec('skopeo', args, { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 })).stdout;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-mirror-reg-'));
  // Credentials for the Basic-auth registry, the "site registry" of these tests (another host: no mounts).
  dockerConfig = path.join(work, 'docker');
  await mkdir(dockerConfig, { recursive: true });
  await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [env.registryBasic]: { auth: Buffer.from(`${env.basicUser}:${env.basicPass}`).toString('base64') } } }));
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('mirror to another registry', () => {
  it('keeps the repository path under the prefix, digests byte for byte, every platform; a second run copies nothing', async () => {
    const prefix = `site-${run}`;
    const first = await mirrorOk([MULTI, LAYERS, '--to', `${env.registryBasic}/${prefix}`]);
    expect(first.images.map((i) => i.destination)).toEqual([
      `${env.registryBasic}/${prefix}/kairos/core-opensuse:v1.4.0`,
      `${env.registryBasic}/${prefix}/test/layers-oci:v1`,
    ]);
    expect(first.blobs.copied).toBeGreaterThan(4);
    expect(first.blobs.mounted).toBe(0);
    const upstream = await raw(MULTI);
    const mirrored = await raw(`${env.registryBasic}/${prefix}/kairos/core-opensuse:v1.4.0`, true);
    expect(sha(mirrored)).toBe(sha(upstream));
    // Both platform manifests are there, by digest.
    const index = JSON.parse(upstream.toString('utf8')) as { manifests: Array<{ digest: string }> };
    expect(index.manifests.length).toBe(2);
    for (const m of index.manifests) expect(sha(await raw(`${env.registryBasic}/${prefix}/kairos/core-opensuse@${m.digest}`, true))).toBe(m.digest);
    expect(sha(await raw(`${env.registryBasic}/${prefix}/test/layers-oci:v1`, true))).toBe(sha(await raw(LAYERS)));

    const again = await mirrorOk([MULTI, LAYERS, '--to', `${env.registryBasic}/${prefix}`]);
    expect(again.blobs).toEqual({ copied: 0, skipped: first.blobs.copied, mounted: 0, bytes: 0 });
    expect(again.manifests).toBe(0);
  });

  it('within one registry, blobs are mounted, not copied', async () => {
    const r = await mirrorOk([LAYERS, '--to', `${env.registry}/mounted-${run}`]);
    expect(r.blobs.copied).toBe(0);
    expect(r.blobs.mounted).toBeGreaterThan(0);
    expect(sha(await raw(`${env.registry}/mounted-${run}/test/layers-oci:v1`))).toBe(sha(await raw(LAYERS)));
  });

  it('out of a layout (sneakernet) into a registry: the same digests as upstream', async () => {
    const dir = path.join(work, 'usb');
    await mirrorOk([MULTI, '--to', `oci:${dir}`]);
    const r = await mirrorOk([`oci:${dir}`, '--to', `${env.registryBasic}/usb-${run}`]);
    expect(r.images).toEqual([{ source: `oci:${dir}:kairos/core-opensuse:v1.4.0`, destination: `${env.registryBasic}/usb-${run}/kairos/core-opensuse:v1.4.0`, digest: sha(await raw(MULTI)) }]);
    expect(sha(await raw(`${env.registryBasic}/usb-${run}/kairos/core-opensuse:v1.4.0`, true))).toBe(sha(await raw(MULTI)));
  });

  it('--dry-run lists what would move and writes nothing', async () => {
    const r = await mirrorOk([LAYERS, '--to', `${env.registryBasic}/dry-${run}`, '--dry-run']);
    expect(r.blobs.copied).toBeGreaterThan(0);
    const after = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', `${env.basicUser}:${env.basicPass}`, `docker://${env.registryBasic}/dry-${run}/test/layers-oci:v1`]).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(Error);
  });
});

describe('a cut mid-blob is resumed', () => {
  let source: FaultProxy;
  let dest: FaultProxy;
  beforeAll(async () => {
    source = await startFaultProxy({ upstream: env.registry });
    dest = await startFaultProxy({ upstream: env.registry });
  });
  afterAll(async () => {
    await source?.close();
    await dest?.close();
  });

  it('the download resumes with Range and the chunked upload from the registry\'s offset; the digest is the source\'s', async () => {
    const dir = path.join(work, 'big');
    const img = await buildImage({ dir, tag: 'v1', layers: [{ compression: 'none', entries: [{ path: 'blob.bin', type: 'file', content: randomBytes(3 * 1024 * 1024) }] }] });
    const ref = `${env.registry}/test/cut-${run}:v1`;
    await pushImage({ layoutDir: dir, tag: 'v1', dest: ref });
    const layer = img.layers[0]?.digest ?? '';
    source.setFaults([{ kind: 'cut', afterBytes: 700 * 1024, times: 1, match: new RegExp(`/blobs/${layer}`) }]);
    dest.setFaults([{ kind: 'cut-upload', method: 'PATCH', afterBytes: 512 * 1024, times: 1, skip: 1, match: /\/blobs\/uploads\// }]);
    const events: RegistryEvent[] = [];
    const report = await mirror({
      sources: [`${source.address}/test/cut-${run}:v1`], to: parseMirrorDestination(`${dest.address}/resumed`), plainHttp: true,
      chunkSize: 1024 * 1024, cacheDir: path.join(work, 'cache'), env: {},
      onEvent: (e) => { if (e.type === 'registry') events.push(e.event); },
    });
    expect(report.images[0]?.digest).toBe(img.manifestDigest);
    expect(report.blobs.copied).toBe(2);
    expect(events.some((e) => e.type === 'resume' && e.offset > 0 && !e.restarted && e.digest === layer)).toBe(true);
    expect(source.requests.some((q) => q.range !== undefined && q.path.includes(layer))).toBe(true);
    expect(dest.requests.filter((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/')).length).toBeGreaterThan(0);
    expect(sha(await raw(`${env.registry}/resumed/test/cut-${run}:v1`))).toBe(img.manifestDigest);
    const blob = await fetch(`http://${env.registry}/v2/resumed/test/cut-${run}/blobs/${layer}`);
    expect(sha(Buffer.from(await blob.arrayBuffer()))).toBe(layer);
  }, 120_000);
});

describe('--with-signatures', () => {
  it('copies cosign tags and OCI referrers, listed at the destination as at the source', async () => {
    // A referrer on the layers image, in the tag schema (the test registry has no referrers API).
    const subject = sha(await raw(LAYERS));
    const file = path.join(work, 'sbom.spdx.json');
    await writeFile(file, JSON.stringify({ spdxVersion: 'SPDX-2.3', run }));
    await artifactAttach({ subject: LAYERS, files: [path.basename(file)], cwd: work, artifactType: 'application/spdx+json', plainHttp: true, env: {} });
    const prefix = `signed-${run}`;
    const r = await mirrorOk([MULTI, LAYERS, '--with-signatures', '--to', `${env.registryBasic}/${prefix}`]);
    const digest = r.images[0]?.digest ?? '';
    expect(r.images.map((i) => i.destination)).toContain(`${env.registryBasic}/${prefix}/kairos/core-opensuse:sha256-${digest.slice(7)}.sig`);
    const client = createRegistryClient({ plainHttp: true, credentials: staticCredentials({ [env.registryBasic]: { username: env.basicUser, password: env.basicPass } }) });
    const there = await listReferrers({ client, registry: env.registryBasic, repository: `${prefix}/test/layers-oci` }, subject);
    const here = await listReferrers({ client: createRegistryClient({ plainHttp: true }), registry: env.registry, repository: 'test/layers-oci' }, subject);
    expect(there.map((d) => d.digest).sort()).toEqual(here.map((d) => d.digest).sort());
    expect(there.some((d) => d.artifactType === 'application/spdx+json')).toBe(true);
  });
});
