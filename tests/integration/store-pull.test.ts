// pullImage into the OCI-layout cache and exportLayout out of it, against the real registry of
// scripts/test-env.sh (through the fault proxy to count requests), checked with skopeo and umoci.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { testEnv } from '../helpers/env.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { exportLayout, openStore, pullImage, REF_NAME } from '../../src/store/index.js';
import { parseReference } from '../../src/reference/reference.js';
import { KairosImgError } from '../../src/errors.js';

const env = testEnv();
const run = randomBytes(4).toString('hex');
const fast = { attempts: 4, baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 20_000 };

async function pushed(repo: string, tag: string, opts: { format?: 'oci' | 'docker'; layers?: number; bytes?: number } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'kimg-store-img-'));
  const layers = Array.from({ length: opts.layers ?? 3 }, (_, i) => ({
    compression: 'gzip' as const,
    entries: [{ path: `layer${i}/data.bin`, type: 'file' as const, content: randomBytes(opts.bytes ?? 100_000) }],
  }));
  const built = await buildImage({ dir, tag, format: opts.format ?? 'oci', arch: 'amd64', layers, config: { Cmd: ['/bin/sh'] } });
  await pushImage({ layoutDir: dir, tag, dest: `${env.registry}/${repo}:${tag}`, plainHttp: true });
  return built;
}

/** Every blob file in the layout hashes to its name; no temp files; index entries point at blobs. */
async function assertValidLayout(root: string): Promise<void> {
  expect(JSON.parse(await readFile(path.join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
  const names = await readdir(path.join(root, 'blobs', 'sha256'));
  expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
  for (const n of names) {
    const bytes = await readFile(path.join(root, 'blobs', 'sha256', n));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(n);
  }
  const index = JSON.parse(await readFile(path.join(root, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  for (const m of index.manifests) expect(names).toContain(m.digest.slice(7));
}

let proxy: FaultProxy;
beforeAll(async () => { proxy = await startFaultProxy({ upstream: env.registry }); });
afterAll(async () => { await proxy.close(); });

describe('pullImage', () => {
  it('pulls into the cache, and a second pull fetches no blob', async () => {
    const repo = `kimg-storetest-${run}/app`;
    const built = await pushed(repo, 'v1');
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-cache-'));
    const store = await openStore({ root });
    const client = createRegistryClient({ plainHttp: true, retry: fast });
    const ref = parseReference(`${proxy.address}/${repo}:v1`);
    proxy.clearRequests();
    const progress = new Map<string, number>();
    const first = await pullImage({ client, store, ref, onLayerProgress: (d, bytes, total) => { progress.set(d, bytes); expect(bytes).toBeLessThanOrEqual(total); } });
    expect(first).toMatchObject({ digest: built.manifestDigest, fetched: 4, cached: 0, reference: `${proxy.address}/${repo}:v1` });
    expect(first.config).toMatchObject({ architecture: 'amd64' });
    for (const l of built.layers) expect(progress.get(l.digest)).toBe(l.size);
    expect(proxy.requests.filter((r) => r.path.includes('/blobs/'))).toHaveLength(4);
    expect((await store.resolveTag(`${proxy.address}/${repo}:v1`))?.digest).toBe(built.manifestDigest);
    await assertValidLayout(root);

    proxy.clearRequests();
    const again = await pullImage({ client: createRegistryClient({ plainHttp: true, retry: fast }), store: await openStore({ root }), ref });
    expect(again).toMatchObject({ digest: built.manifestDigest, fetched: 0, cached: 4 });
    expect(proxy.requests.filter((r) => r.path.includes('/blobs/'))).toEqual([]);
  });

  it('a corrupted blob fails the pull with DIGEST_MISMATCH and leaves nothing of it', async () => {
    const repo = `kimg-storetest-${run}/corrupt`;
    const built = await pushed(repo, 'v1', { layers: 2 });
    const bad = built.layers[1];
    if (bad === undefined) throw new Error('no layer');
    const hex = bad.digest.slice(7);
    const file = path.join(env.registryStorage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const bytes = await readFile(file);
    bytes[100] = (bytes[100] ?? 0) ^ 0x55;
    await writeFile(file, bytes);
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-cache-'));
    const store = await openStore({ root });
    proxy.clearRequests();
    const err = await pullImage({ client: createRegistryClient({ plainHttp: true, retry: fast }), store, ref: parseReference(`${proxy.address}/${repo}:v1`) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KairosImgError);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect((err as Error).message).toContain(bad.digest);
    expect(await store.has(bad.digest)).toBe(false);
    expect(await store.resolveTag(`${proxy.address}/${repo}:v1`)).toBeUndefined();
    // fetched twice (one retry for a complete-but-wrong download), never more
    expect(proxy.requests.filter((r) => r.path.includes(bad.digest))).toHaveLength(2);
    await assertValidLayout(root);
  });

  it('two concurrent pulls into one cache leave a valid store', async () => {
    const repo = `kimg-storetest-${run}/concurrent`;
    const a = await pushed(repo, 'a', { layers: 4, bytes: 300_000 });
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-cache-'));
    const pull = async (tag: string) => pullImage({
      client: createRegistryClient({ plainHttp: true, retry: fast }), store: await openStore({ root }),
      ref: parseReference(`${env.registry}/${repo}:${tag}`), concurrency: 4,
    });
    await execa('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests',
      `docker://${env.registry}/${repo}:a`, `docker://${env.registry}/${repo}:b`]);
    const results = await Promise.all([pull('a'), pull('b'), pull('a')]);
    for (const r of results) expect(r.digest).toBe(a.manifestDigest);
    expect(results.reduce((n, r) => n + r.fetched + r.cached, 0)).toBe(15);
    await assertValidLayout(root);
    const names = (await openStore({ root }).then((s) => s.readIndex())).manifests.map((m) => m.annotations?.[REF_NAME]).sort();
    expect(names).toEqual([`${env.registry}/${repo}:a`, `${env.registry}/${repo}:b`]);
  });
});

describe('exportLayout', () => {
  it('writes a layout skopeo inspects and umoci unpacks (Docker schema 2 converted to OCI)', async () => {
    const repo = `kimg-storetest-${run}/export`;
    const built = await pushed(repo, 'v2', { format: 'docker', layers: 2, bytes: 20_000 });
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-cache-'));
    const store = await openStore({ root });
    const pulled = await pullImage({ client: createRegistryClient({ plainHttp: true, retry: fast }), store, ref: parseReference(`${env.registry}/${repo}:v2`) });
    expect(pulled.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'kimg-out-')), 'image');
    const res = await exportLayout({ store, dir: out, refName: 'v2', manifestDigest: pulled.digest });
    expect(res).toMatchObject({ converted: true, mediaType: 'application/vnd.oci.image.manifest.v1+json', linked: 3, copied: 0 });
    const inspect = JSON.parse((await execa('skopeo', ['inspect', `oci:${out}:v2`])).stdout) as { Digest: string; Layers: string[]; Architecture: string };
    expect(inspect.Digest).toBe(res.manifestDigest);
    expect(inspect.Layers).toEqual(built.layers.map((l) => l.digest));
    expect(inspect.Architecture).toBe('amd64');
    const bundle = path.join(path.dirname(out), 'bundle');
    await execa('umoci', ['unpack', '--image', `${out}:v2`, bundle]);
    expect((await readFile(path.join(bundle, 'rootfs', 'layer1', 'data.bin'))).length).toBe(20_000);
    await assertValidLayout(out);

    // A second image merged into the same layout keeps the first.
    const second = await pushed(repo, 'v3', { layers: 1, bytes: 1000 });
    const p2 = await pullImage({ client: createRegistryClient({ plainHttp: true, retry: fast }), store, ref: parseReference(`${env.registry}/${repo}:v3`) });
    const r2 = await exportLayout({ store, dir: out, refName: 'v3', manifestDigest: p2.digest });
    expect(r2).toMatchObject({ converted: false, manifestDigest: second.manifestDigest });
    expect(JSON.parse((await execa('skopeo', ['inspect', `oci:${out}:v2`])).stdout)).toMatchObject({ Digest: res.manifestDigest });
    expect(JSON.parse((await execa('skopeo', ['inspect', `oci:${out}:v3`])).stdout)).toMatchObject({ Digest: second.manifestDigest });
    await assertValidLayout(out);
  });

  it('refuses a non-empty directory that is not a layout, and an image missing from the cache', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-cache-'));
    const store = await openStore({ root });
    const config = Buffer.from('{}');
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: 2 }, layers: [] }));
    const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    await store.writeBlob({ digest, size: raw.length }, raw);
    const dir = await mkdtemp(path.join(tmpdir(), 'kimg-out-'));
    await writeFile(path.join(dir, 'precious.txt'), 'x');
    await expect(exportLayout({ store, dir, refName: 't', manifestDigest: digest })).rejects.toMatchObject({ code: 'CACHE_INCOMPLETE' });
    await store.writeBlob({ digest: configDigest, size: 2 }, config);
    await expect(exportLayout({ store, dir, refName: 't', manifestDigest: digest })).rejects.toMatchObject({ code: 'OUTPUT_NOT_LAYOUT' });
    expect(await readdir(dir)).toEqual(['precious.txt']);
    expect((await readdir(path.dirname(dir))).filter((n) => n.startsWith(`.${path.basename(dir)}.tmp`))).toEqual([]);
  });
});
