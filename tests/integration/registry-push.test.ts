// The registry client's write side against the real registries of scripts/test-env.sh (anonymous,
// Basic, token) and through the fault proxy: blob HEAD/skip, monolithic and chunked uploads,
// resumption after a PATCH cut mid-body, cross-repository mounts, manifest PUT by tag and digest,
// and the referrers tag schema (distribution 2.8 has no referrers API). Nothing is mocked.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { testEnv } from '../helpers/env.js';
import {
  bufferSource, createRegistryClient, fileSource, findReferrers, indexReferrer, listReferrers, staticCredentials, type RegistryEvent,
} from '../../src/registry/index.js';
import { buildArtifactManifest, fileLayer, referrerDescriptor, referrersTag } from '../../src/oci/artifact.js';
import { KairosImgError } from '../../src/errors.js';

const env = testEnv();
const run = randomBytes(4).toString('hex');
const fast = { attempts: 5, baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 30_000 };
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function errorOf(p: Promise<unknown>): Promise<KairosImgError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    return e as KairosImgError;
  }
  throw new Error('expected a rejection');
}

async function tempFile(bytes: Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kimg-push-'));
  const file = path.join(dir, 'blob.bin');
  await writeFile(file, bytes);
  return file;
}

/** A blob as another client reads it back (plain HTTP GET), for byte-exact checks. */
async function rawBlob(registry: string, repository: string, digest: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`http://${registry}/v2/${repository}/blobs/${digest}`, { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe('anonymous registry', () => {
  const client = createRegistryClient({ plainHttp: true, retry: fast });
  const repo = { registry: env.registry, repository: `kimg-push-${run}/blobs` };

  it('uploads a small blob in one PUT, then finds it with HEAD and skips it', async () => {
    const bytes = randomBytes(300_000);
    const desc = { digest: sha(bytes), size: bytes.length };
    expect(await client.blobExists(repo, desc.digest)).toBeUndefined();
    const first = await client.pushBlob(repo, desc, bufferSource(bytes));
    expect(first).toMatchObject({ how: 'uploaded', resumes: 0, restarts: 0 });
    expect(await client.blobExists(repo, desc.digest)).toEqual({ size: bytes.length });
    const again = await client.pushBlob(repo, desc, bufferSource(bytes));
    expect(again.how).toBe('exists');
    expect((await rawBlob(env.registry, repo.repository, desc.digest)).body.equals(bytes)).toBe(true);
  });

  it('uploads a large blob in PATCH chunks read from disk, byte-exact', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 12345);
    const desc = { digest: sha(bytes), size: bytes.length };
    const progress: number[] = [];
    const r = await client.pushBlob(repo, desc, fileSource(await tempFile(bytes)), {
      monolithicMax: 1024 * 1024, chunkSize: 1024 * 1024, onProgress: (n) => progress.push(n),
    });
    expect(r.how).toBe('uploaded');
    expect(progress[progress.length - 1]).toBe(bytes.length);
    const back = await collect(client.fetchBlob(repo, { mediaType: 'application/octet-stream', ...desc }));
    expect(back.equals(bytes)).toBe(true);
  });

  it('fails when the file changes during the upload, and the registry never completes the blob', async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const desc = { digest: sha(bytes), size: bytes.length };
    const other = Buffer.from(bytes);
    other.writeUInt8((other.readUInt8(other.length - 10) ^ 0xff) & 0xff, other.length - 10); // same size, other content
    const file = await tempFile(other);
    for (const monolithicMax of [64 * 1024 * 1024, 512 * 1024]) {
      const e = await errorOf(client.pushBlob(repo, desc, fileSource(file), { monolithicMax, chunkSize: 512 * 1024 }));
      expect(e.code).toBe('DIGEST_MISMATCH');
      expect(await client.blobExists(repo, desc.digest)).toBeUndefined();
    }
  });

  it('mounts a blob from another repository instead of uploading it', async () => {
    const bytes = randomBytes(100_000);
    const desc = { digest: sha(bytes), size: bytes.length };
    const from = { registry: env.registry, repository: `kimg-push-${run}/mount-from` };
    const to = { registry: env.registry, repository: `kimg-push-${run}/mount-to` };
    await client.pushBlob(from, desc, bufferSource(bytes));
    const r = await client.pushBlob(to, desc, bufferSource(Buffer.alloc(0)), { mountFrom: from.repository });
    expect(r.how).toBe('mounted');
    expect((await rawBlob(env.registry, to.repository, desc.digest)).body.equals(bytes)).toBe(true);
  });

  it('puts a manifest by tag and by digest and reads the same bytes back', async () => {
    const file = randomBytes(5000);
    const fdesc = { digest: sha(file), size: file.length };
    await client.pushBlob(repo, fdesc, bufferSource(file));
    await client.pushBlob(repo, { digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 }, bufferSource(Buffer.from('{}')));
    const built = buildArtifactManifest({ layers: [fileLayer({ ...fdesc, title: 'a.bin' })] });
    const byTag = await client.putManifest({ ...repo, tag: 'v1' }, { mediaType: built.descriptor.mediaType, raw: built.raw });
    expect(byTag.digest).toBe(built.descriptor.digest);
    const got = await client.fetchManifest({ ...repo, tag: 'v1' });
    expect(got.raw.equals(built.raw)).toBe(true);
    expect(got.descriptor.digest).toBe(built.descriptor.digest);
    const byDigest = await client.putManifest({ ...repo, digest: built.descriptor.digest }, { mediaType: built.descriptor.mediaType, raw: built.raw });
    expect(byDigest.digest).toBe(built.descriptor.digest);
  });

  it('refuses a manifest whose blobs are missing with the registry\'s own code', async () => {
    const built = buildArtifactManifest({ layers: [fileLayer({ digest: sha(randomBytes(10)), size: 10, title: 'x' })] });
    const e = await errorOf(client.putManifest({ ...repo, tag: 'broken' }, { mediaType: built.descriptor.mediaType, raw: built.raw }));
    expect(e.code).toBe('MANIFEST_BLOB_UNKNOWN');
  });
});

describe('referrers tag schema (no referrers API on distribution 2.8)', () => {
  const client = createRegistryClient({ plainHttp: true, retry: fast });
  const repo = { registry: env.registry, repository: `kimg-push-${run}/referrers` };
  const target = { client, ...repo };

  async function pushArtifact(opts: { artifactType: string; subject?: { mediaType: string; digest: string; size: number }; note: string; tag?: string }) {
    const file = Buffer.from(`${opts.note}\n`);
    const fdesc = { digest: sha(file), size: file.length };
    await client.pushBlob(repo, fdesc, bufferSource(file));
    await client.pushBlob(repo, { digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 }, bufferSource(Buffer.from('{}')));
    const built = buildArtifactManifest({
      layers: [fileLayer({ ...fdesc, title: `${opts.note}.txt` })], artifactType: opts.artifactType, subject: opts.subject,
      annotations: { 'org.example.note': opts.note },
    });
    const put = await client.putManifest({ ...repo, ...(opts.tag ? { tag: opts.tag } : { digest: built.descriptor.digest }) }, { mediaType: built.descriptor.mediaType, raw: built.raw });
    return { built, put };
  }

  it('lists nothing for a subject without referrers, detecting that there is no API', async () => {
    const subject = await pushArtifact({ artifactType: 'application/vnd.example.subject', note: 'lonely', tag: 'lonely' });
    const found = await findReferrers(target, subject.built.descriptor.digest);
    expect(found).toEqual({ referrers: [], via: 'tag-schema' });
  });

  it('indexes two referrers without dropping the first, filters by artifactType, and deletes the superseded index', async () => {
    const subject = await pushArtifact({ artifactType: 'application/vnd.example.subject', note: 'subject', tag: 'subject' });
    const sdesc = { mediaType: subject.built.descriptor.mediaType, digest: subject.built.descriptor.digest, size: subject.built.descriptor.size };
    const a = await pushArtifact({ artifactType: 'application/vnd.example.sbom', subject: sdesc, note: 'sbom' });
    expect(a.put.subjectProcessed).toBe(false);
    const first = await indexReferrer(target, sdesc, referrerDescriptor(a.built.descriptor, a.built.manifest));
    expect(first).toMatchObject({ tag: referrersTag(sdesc.digest), entries: 1 });
    const b = await pushArtifact({ artifactType: 'application/vnd.example.signature', subject: sdesc, note: 'sig' });
    const second = await indexReferrer(target, sdesc, referrerDescriptor(b.built.descriptor, b.built.manifest));
    expect(second.entries).toBe(2);
    // Recording the same referrer again changes nothing.
    expect((await indexReferrer(target, sdesc, referrerDescriptor(b.built.descriptor, b.built.manifest))).indexDigest).toBe(second.indexDigest);

    const all = await listReferrers(target, sdesc.digest);
    expect(all.map((d) => d.digest)).toEqual([a.built.descriptor.digest, b.built.descriptor.digest]);
    expect(all[0]).toMatchObject({ mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sbom', annotations: { 'org.example.note': 'sbom' } });
    expect((await listReferrers(target, sdesc.digest, { artifactType: 'application/vnd.example.signature' })).map((d) => d.digest)).toEqual([b.built.descriptor.digest]);
    // The first index (one entry) is gone: only the current one is kept.
    const old = await fetch(`http://${env.registry}/v2/${repo.repository}/manifests/${first.indexDigest ?? ''}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    expect(old.status).toBe(404);
  });
});

describe('Basic auth registry', () => {
  const repo = { registry: env.registryBasic, repository: `kimg-push-${run}/basic` };

  it('pushes with credentials; without them the push is UNAUTHORIZED and no secret is printed', async () => {
    const ok = createRegistryClient({ plainHttp: true, retry: fast, credentials: staticCredentials({ [env.registryBasic]: { username: env.basicUser, password: env.basicPass } }) });
    const bytes = randomBytes(200_000);
    const desc = { digest: sha(bytes), size: bytes.length };
    expect((await ok.pushBlob(repo, desc, bufferSource(bytes))).how).toBe('uploaded');
    const big = randomBytes(1_500_000);
    expect((await ok.pushBlob(repo, { digest: sha(big), size: big.length }, bufferSource(big), { monolithicMax: 500_000, chunkSize: 500_000 })).how).toBe('uploaded');
    const auth = `Basic ${Buffer.from(`${env.basicUser}:${env.basicPass}`).toString('base64')}`;
    expect((await rawBlob(env.registryBasic, repo.repository, desc.digest, { authorization: auth })).body.equals(bytes)).toBe(true);

    const anon = createRegistryClient({ plainHttp: true, retry: fast });
    const other = randomBytes(1000);
    const e = await errorOf(anon.pushBlob(repo, { digest: sha(other), size: other.length }, bufferSource(other)));
    expect(e.code).toBe('UNAUTHORIZED');
    const wrong = createRegistryClient({ plainHttp: true, retry: fast, credentials: staticCredentials({ [env.registryBasic]: { username: env.basicUser, password: 'not-the-password' } }) });
    const w = await errorOf(wrong.pushBlob(repo, { digest: sha(other), size: other.length }, bufferSource(other)));
    expect(w.code).toBe('UNAUTHORIZED');
    expect(`${w.message} ${w.hint ?? ''} ${JSON.stringify(w.details)}`).not.toContain(env.basicPass);
  });
});

describe('token auth registry', () => {
  it('pushes and mounts with a pull,push token; anonymous gets UNAUTHORIZED', async () => {
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({
      plainHttp: true, retry: fast, onEvent: (e) => events.push(e),
      credentials: staticCredentials({ [env.registryToken]: { username: env.tokenUser, password: env.tokenPass } }),
    });
    const a = { registry: env.registryToken, repository: `kimg-push-${run}/token-a` };
    const b = { registry: env.registryToken, repository: `kimg-push-${run}/token-b` };
    const bytes = randomBytes(1_200_000);
    const desc = { digest: sha(bytes), size: bytes.length };
    expect((await client.pushBlob(a, desc, bufferSource(bytes), { monolithicMax: 400_000, chunkSize: 400_000 })).how).toBe('uploaded');
    expect((await client.pushBlob(b, desc, bufferSource(bytes), { mountFrom: a.repository })).how).toBe('mounted');
    const scopes = events.filter((e) => e.type === 'auth').map((e) => (e as { message: string }).message).join('\n');
    expect(scopes).toContain(`repository:${a.repository}:pull,push`);
    expect(scopes).toContain(`repository:${b.repository}:pull,push repository:${a.repository}:pull`);
    expect(scopes).not.toContain(env.tokenPass);
    const back = await collect(client.fetchBlob(b, { mediaType: 'application/octet-stream', ...desc }));
    expect(back.equals(bytes)).toBe(true);

    const anon = createRegistryClient({ plainHttp: true, retry: fast });
    const e = await errorOf(anon.pushBlob({ registry: env.registryToken, repository: `kimg-push-${run}/token-anon` }, { digest: sha(bytes.subarray(0, 10)), size: 10 }, bufferSource(bytes.subarray(0, 10))));
    expect(e.code).toBe('UNAUTHORIZED');
  });
});

describe('through the fault proxy', () => {
  let proxy: FaultProxy;
  beforeAll(async () => { proxy = await startFaultProxy({ upstream: env.registry }); });
  afterAll(async () => { await proxy.close(); });

  const chunked = { monolithicMax: 1024 * 1024, chunkSize: 1024 * 1024 };

  it('resumes a chunked upload from the registry\'s offset after a PATCH is dropped before it reaches the registry', async () => {
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ plainHttp: true, retry: fast, onEvent: (e) => events.push(e) });
    const repo = { registry: proxy.address, repository: `kimg-push-${run}/resume` };
    const bytes = randomBytes(4 * 1024 * 1024 + 100);
    const desc = { digest: sha(bytes), size: bytes.length };
    proxy.clearRequests();
    // The second PATCH (bytes 1 MiB…2 MiB) breaks half-way; the registry still holds 1 MiB.
    proxy.setFaults([{ kind: 'cut-upload', method: 'PATCH', afterBytes: 512 * 1024, times: 1, skip: 1, match: /\/blobs\/uploads\// }]);
    const r = await client.pushBlob(repo, desc, fileSource(await tempFile(bytes)), chunked);
    expect(r).toMatchObject({ how: 'uploaded', resumes: 1, restarts: 0 });
    const status = proxy.requests.filter((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/'));
    expect(status).toHaveLength(1);
    expect(events.some((e) => e.type === 'resume' && e.offset === 1024 * 1024 && !e.restarted)).toBe(true);
    // Four full chunks and the tail, the cut one sent twice.
    expect(proxy.requests.filter((q) => q.method === 'PATCH').length).toBe(6);
    expect((await rawBlob(env.registry, repo.repository, desc.digest)).body.equals(bytes)).toBe(true);
  });

  it('starts the upload again when the registry kept part of a dropped PATCH and gave up the session', async () => {
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ plainHttp: true, retry: fast, onEvent: (e) => events.push(e) });
    const repo = { registry: proxy.address, repository: `kimg-push-${run}/restart` };
    const bytes = randomBytes(3 * 1024 * 1024);
    const desc = { digest: sha(bytes), size: bytes.length };
    proxy.setFaults([{ kind: 'cut-upload', method: 'PATCH', forward: true, afterBytes: 300 * 1024, times: 1, skip: 1, match: /\/blobs\/uploads\// }]);
    const r = await client.pushBlob(repo, desc, fileSource(await tempFile(bytes)), chunked);
    expect(r.how).toBe('uploaded');
    // distribution 2.8 kept the 300 KiB it read, and then refuses the session's status ("upload
    // resumed at wrong offset") and cancels it: the client starts again from byte 0.
    expect(r).toMatchObject({ resumes: 0, restarts: 1 });
    expect(events.some((e) => e.type === 'resume' && e.restarted && e.offset === 0)).toBe(true);
    expect((await rawBlob(env.registry, repo.repository, desc.digest)).body.equals(bytes)).toBe(true);
  });

  it('retries a monolithic upload answered 503 with Retry-After', async () => {
    const client = createRegistryClient({ plainHttp: true, retry: fast });
    const repo = { registry: proxy.address, repository: `kimg-push-${run}/busy` };
    const bytes = randomBytes(50_000);
    proxy.clearRequests();
    proxy.setFaults([{ kind: 'status', status: 503, retryAfter: 0, times: 1, match: /\/blobs\/uploads\/.+digest=/ }]);
    const r = await client.pushBlob(repo, { digest: sha(bytes), size: bytes.length }, bufferSource(bytes));
    expect(r.how).toBe('uploaded');
    expect(proxy.requests.filter((q) => q.method === 'POST').length).toBe(2);
    proxy.setFaults([]);
  });
});
