// The registry client against the real registries of scripts/test-env.sh (anonymous, Basic,
// token auth) and the fault proxy in front of them. Images are built with the fixture builder
// and pushed with skopeo; nothing here is mocked.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, buildMultiArch, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { collect, errorOf } from '../helpers/async.js';
import { testEnv } from '../helpers/env.js';
import { createRegistryClient, dockerConfigCredentials, staticCredentials, type RegistryEvent } from '../../src/registry/index.js';
import { type Descriptor } from '../../src/oci/index.js';
import { parseReference } from '../../src/reference/reference.js';

const env = testEnv();
const run = randomBytes(4).toString('hex');
const fast = { attempts: 4, baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 20_000 };


/** A small image with one gzip layer of `bytes` random bytes (random → incompressible → real size). */
async function makeImage(opts: { tag: string; bytes?: number; format?: 'oci' | 'docker' }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'kimg-reg-img-'));
  const payload = randomBytes(opts.bytes ?? 200_000);
  const built = await buildImage({
    dir, tag: opts.tag, format: opts.format ?? 'oci', arch: 'amd64',
    layers: [{ compression: 'gzip', entries: [{ path: 'data/blob.bin', type: 'file', content: payload }] },
      { compression: 'none', entries: [{ path: 'etc/os-release', type: 'file', content: `NAME=test-${opts.tag}\n` }] }],
  });
  return { dir, built };
}

let anonRepo: string;
let anonImage: Awaited<ReturnType<typeof makeImage>>;
let bigLayer: { digest: string; size: number; mediaType: string };

beforeAll(async () => {
  anonRepo = `kimg-regtest-${run}/app`;
  anonImage = await makeImage({ tag: 'v1', bytes: 400_000 });
  await pushImage({ layoutDir: anonImage.dir, tag: 'v1', dest: `${env.registry}/${anonRepo}:v1`, plainHttp: true });
  const l = anonImage.built.layers[0];
  if (l === undefined) throw new Error('no layer');
  bigLayer = l;
});

describe('anonymous registry', () => {
  const client = createRegistryClient({ plainHttp: true, retry: fast });

  it('pings, reads a manifest by tag and by digest, and HEADs it', async () => {
    await client.ping(env.registry);
    const ref = parseReference(`${env.registry}/${anonRepo}:v1`);
    const m = await client.getManifest(ref);
    expect(m.descriptor.digest).toBe(anonImage.built.manifestDigest);
    expect(m.descriptor.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(`sha256:${createHash('sha256').update(m.raw).digest('hex')}`).toBe(m.descriptor.digest);
    expect(m.manifest.layers.map((l) => l.digest)).toEqual(anonImage.built.layers.map((l) => l.digest));
    const byDigest = await client.getManifest({ ...ref, tag: undefined, digest: m.descriptor.digest });
    expect(byDigest.raw.equals(m.raw)).toBe(true);
    expect(await client.headManifest(ref)).toEqual({ digest: m.descriptor.digest, mediaType: m.descriptor.mediaType, size: m.raw.length });
    expect(await client.headManifest({ ...ref, tag: 'nope' })).toBeUndefined();
  });

  it('streams a blob verified, and the config as a buffer', async () => {
    const repo = { registry: env.registry, repository: anonRepo };
    let last = 0;
    const data = await collect(client.fetchBlob(repo, bigLayer, { onProgress: (n) => { last = n; } }));
    expect(data.length).toBe(bigLayer.size);
    expect(last).toBe(bigLayer.size);
    const config = JSON.parse((await client.fetchBlobToBuffer(repo, { mediaType: 'x', digest: anonImage.built.configDigest, size: (await client.getManifest(parseReference(`${env.registry}/${anonRepo}:v1`))).manifest.config.size })).toString()) as { architecture: string };
    expect(config.architecture).toBe('amd64');
  });

  it('reads Docker schema 2 manifests (Content-Type decides)', async () => {
    const img = await makeImage({ tag: 'd1', format: 'docker', bytes: 1000 });
    await pushImage({ layoutDir: img.dir, tag: 'd1', dest: `${env.registry}/${anonRepo}:d1`, plainHttp: true });
    const m = await client.getManifest(parseReference(`${env.registry}/${anonRepo}:d1`));
    expect(m.descriptor.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(m.descriptor.digest).toBe(img.built.manifestDigest);
  });

  it('names unknown tags and repositories', async () => {
    const e1 = await errorOf(client.getManifest(parseReference(`${env.registry}/${anonRepo}:v9`)));
    expect(e1.code).toBe('MANIFEST_UNKNOWN');
    expect(e1.details).toMatchObject({ tag: 'v9', repository: anonRepo });
    const e2 = await errorOf(client.listTags({ registry: env.registry, repository: `kimg-regtest-${run}/absent` }));
    expect(e2.code).toBe('NAME_UNKNOWN');
  });

  it('fails a blob that does not match its digest (corrupted in the registry storage)', async () => {
    const img = await makeImage({ tag: 'c1', bytes: 50_000 });
    const repo = `kimg-regtest-${run}/corrupt`;
    await pushImage({ layoutDir: img.dir, tag: 'c1', dest: `${env.registry}/${repo}:c1`, plainHttp: true });
    const layer = img.built.layers[0] as Descriptor;
    const hex = layer.digest.slice(7);
    const file = path.join(env.registryStorage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const bytes = await readFile(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff; // same size, other content
    await writeFile(file, bytes);
    const err = await errorOf(collect(client.fetchBlob({ registry: env.registry, repository: repo }, layer)));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain(layer.digest);
    expect(err.message).toContain(`got sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  });

  it('lists more than 100 tags across pages of 20, following Link', async () => {
    const repo = `kimg-regtest-${run}/many`;
    await pushImage({ layoutDir: anonImage.dir, tag: 'v1', dest: `${env.registry}/${repo}:t000`, plainHttp: true });
    const raw = (await client.getManifest(parseReference(`${env.registry}/${repo}:t000`))).raw;
    const want = Array.from({ length: 105 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    for (const tag of want.slice(1)) {
      const res = await fetch(`http://${env.registry}/v2/${repo}/manifests/${tag}`, {
        method: 'PUT', body: raw, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(res.status).toBe(201);
    }
    // distribution 2.8 ignores `n` on tag lists (pagination arrived in 3.0; quay.io paginates), so a
    // thin proxy pages the real registry's list the way distribution 3 does: sorted, `last`/`n`,
    // Link relative on odd pages and absolute on even ones (both forms occur in the wild).
    const pager = await startTagPager(env.registry);
    try {
      const paged = createRegistryClient({ plainHttp: true, tagPageSize: 20, retry: fast });
      const tags = await paged.listTags({ registry: pager.address, repository: repo });
      expect(tags).toEqual(want);
      expect(pager.requests).toHaveLength(6);
      expect(pager.requests.every((r) => /[?&]n=20(&|$)/.test(r))).toBe(true);
      // A Link to another host is not followed (the token would go with it).
      pager.foreignAfter = 1;
      const partial = await paged.listTags({ registry: pager.address, repository: repo });
      expect(partial).toEqual(want.slice(0, 20));
    } finally {
      await pager.close();
    }
  });

  it('picks the platform from a multi-arch index, and lists what exists when none matches', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kimg-reg-multi-'));
    const repo = `kimg-regtest-${run}/multi`;
    const idx = await buildMultiArch({
      dir, tag: 'm1', platforms: [{ architecture: 'amd64' }, { architecture: 'arm64', variant: 'v8' }],
      layersFor: (p) => [{ compression: 'gzip', entries: [{ path: 'arch', type: 'file', content: p.architecture }] }],
    });
    await pushImage({ layoutDir: dir, tag: 'm1', dest: `${env.registry}/${repo}:m1`, plainHttp: true });
    const ref = parseReference(`${env.registry}/${repo}:m1`);
    for (const arch of ['amd64', 'arm64']) {
      const m = await client.getManifest(ref, { platform: { os: 'linux', architecture: arch } });
      const want = idx.images.find((i) => i.platform.architecture === arch);
      expect(m.descriptor.digest).toBe(want?.manifestDigest);
      expect(m.index?.descriptor.digest).toBe(idx.digest);
    }
    const err = await errorOf(client.getManifest(ref, { platform: { os: 'linux', architecture: 'riscv64' } }));
    expect(err.code).toBe('PLATFORM_NOT_FOUND');
    expect(err.message).toContain('linux/amd64, linux/arm64/v8');
  });

  it('reports a refused connection and a TLS handshake with a plain-HTTP registry', async () => {
    const refused = await errorOf(createRegistryClient({ plainHttp: true, retry: fast }).ping('127.0.0.1:9'));
    expect(refused.code).toBe('REGISTRY_UNREACHABLE');
    const tls = await errorOf(createRegistryClient({ retry: fast }).ping(env.registry));
    expect(tls.code).toBe('TLS_FAILURE');
    expect(tls.hint).toContain('--plain-http');
  });
});

interface TagPager { address: string; requests: string[]; foreignAfter: number | undefined; close(): Promise<void> }

async function startTagPager(upstream: string): Promise<TagPager> {
  const { createServer } = await import('node:http');
  const state: TagPager = { address: '', requests: [], foreignAfter: undefined, close: async () => undefined };
  let page = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      state.requests.push(`${url.pathname}${url.search}`);
      const up = await fetch(`http://${upstream}${url.pathname}`);
      const doc = (await up.json()) as { name: string; tags: string[] };
      const n = Number(url.searchParams.get('n') ?? 1000);
      const last = url.searchParams.get('last');
      const sorted = [...doc.tags].sort();
      const rest = last === null ? sorted : sorted.filter((t) => t > last);
      const slice = rest.slice(0, n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (rest.length > n) {
        page++;
        const next = `${url.pathname}?last=${encodeURIComponent(slice[slice.length - 1] ?? '')}&n=${n}`;
        if (state.foreignAfter !== undefined) headers.link = `<http://127.0.0.2:1${next}>; rel="next"`;
        else headers.link = page % 2 === 1 ? `<${next}>; rel="next"` : `<http://${state.address}${next}>; rel="next"`;
      }
      res.writeHead(200, headers).end(JSON.stringify({ name: doc.name, tags: slice }));
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  state.address = `127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

async function tokenStats(): Promise<number> {
  const res = await fetch(`http://${env.tokenServer}/stats`);
  return ((await res.json()) as { issued: number }).issued;
}

async function dockerConfigDir(entries: Record<string, { user: string; pass: string }>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kimg-dockercfg-'));
  const auths = Object.fromEntries(Object.entries(entries).map(([h, c]) => [h, { auth: Buffer.from(`${c.user}:${c.pass}`).toString('base64') }]));
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}

describe('token auth registry', () => {
  const creds = { username: env.tokenUser, password: env.tokenPass };
  let publicRepo: string;
  let privateRepo: string;
  let img: Awaited<ReturnType<typeof makeImage>>;
  beforeAll(async () => {
    img = await makeImage({ tag: 'v1', bytes: 30_000 });
    publicRepo = `public/kimg-${run}`;
    privateRepo = `private/kimg-${run}`;
    await pushImage({ layoutDir: img.dir, tag: 'v1', dest: `${env.registryToken}/${publicRepo}:v1`, plainHttp: true, creds });
    await pushImage({ layoutDir: img.dir, tag: 'v1', dest: `${env.registryToken}/${privateRepo}:v1`, plainHttp: true, creds });
  });

  it('pulls a public repository anonymously with one cached token', async () => {
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ plainHttp: true, retry: fast, onEvent: (e) => events.push(e) });
    const before = await tokenStats();
    const ref = parseReference(`${env.registryToken}/${publicRepo}:v1`);
    const m = await client.getManifest(ref);
    await Promise.all(m.manifest.layers.map((l) => collect(client.fetchBlob(ref, l))));
    await client.fetchBlobToBuffer(ref, m.manifest.config);
    await client.headManifest(ref);
    expect(await tokenStats()).toBe(before + 1);
    expect(events.some((e) => e.type === 'auth')).toBe(true);
    expect(JSON.stringify(events)).not.toMatch(/eyJ/); // no JWT in events
  });

  it('pulls a private repository with credentials from a test DOCKER_CONFIG', async () => {
    const dir = await dockerConfigDir({ [env.registryToken]: { user: env.tokenUser, pass: env.tokenPass } });
    const client = createRegistryClient({ plainHttp: true, retry: fast, credentials: dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } }) });
    const m = await client.getManifest(parseReference(`${env.registryToken}/${privateRepo}:v1`));
    expect(m.descriptor.digest).toBe(img.built.manifestDigest);
  });

  it('without credentials: UNAUTHORIZED naming where it looked', async () => {
    const dir = await dockerConfigDir({});
    const client = createRegistryClient({ plainHttp: true, retry: fast, credentials: dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } }) });
    const err = await errorOf(client.getManifest(parseReference(`${env.registryToken}/${privateRepo}:v1`)));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain(`no credentials for ${env.registryToken} in ${dir}/config.json`);
    expect(err.hint).toBe(`run: docker login ${env.registryToken}`);
  });

  it('wrong credentials: UNAUTHORIZED naming the source, never the secret', async () => {
    const secret = `wrong-${randomBytes(6).toString('hex')}`;
    const dir = await dockerConfigDir({ [env.registryToken]: { user: env.tokenUser, pass: secret } });
    const client = createRegistryClient({ plainHttp: true, retry: fast, credentials: dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } }) });
    const err = await errorOf(client.getManifest(parseReference(`${env.registryToken}/${privateRepo}:v1`)));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain(`auths["${env.registryToken}"] in ${dir}/config.json`);
    const all = JSON.stringify({ m: err.message, h: err.hint, d: err.details });
    expect(all).not.toContain(secret);
    expect(all).not.toContain(Buffer.from(`${env.tokenUser}:${secret}`).toString('base64'));
  });
});

describe('Basic auth registry', () => {
  it('pulls with credentials and refuses without', async () => {
    const img = await makeImage({ tag: 'b1', bytes: 10_000 });
    const repo = `kimg-regtest-${run}/basic`;
    await pushImage({ layoutDir: img.dir, tag: 'b1', dest: `${env.registryBasic}/${repo}:b1`, plainHttp: true, creds: { username: env.basicUser, password: env.basicPass } });
    const ref = parseReference(`${env.registryBasic}/${repo}:b1`);
    const ok = createRegistryClient({ plainHttp: true, retry: fast, credentials: staticCredentials({ [env.registryBasic]: { username: env.basicUser, password: env.basicPass } }) });
    const m = await ok.getManifest(ref);
    expect((await collect(ok.fetchBlob(ref, m.manifest.layers[0] as Descriptor))).length).toBe(m.manifest.layers[0]?.size);
    const err = await errorOf(createRegistryClient({ plainHttp: true, retry: fast }).getManifest(ref));
    expect(err.code).toBe('UNAUTHORIZED');
  });
});

describe('through the fault proxy', () => {
  let proxy: FaultProxy;
  beforeAll(async () => { proxy = await startFaultProxy({ upstream: env.registry }); });
  afterAll(async () => { await proxy.close(); });

  it('retries 503 with Retry-After', async () => {
    const events: RegistryEvent[] = [];
    proxy.setFaults([{ kind: 'status', status: 503, retryAfter: 1, times: 2, match: /\/manifests\// }]);
    proxy.clearRequests();
    const client = createRegistryClient({ plainHttp: true, retry: fast, onEvent: (e) => events.push(e) });
    const t0 = Date.now();
    const m = await client.getManifest(parseReference(`${proxy.address}/${anonRepo}:v1`));
    expect(m.descriptor.digest).toBe(anonImage.built.manifestDigest);
    expect(proxy.requests.filter((r) => r.path.includes('/manifests/')).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000); // Retry-After: 1 honoured twice
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
  });

  it('gives up after the attempt budget with REGISTRY_ERROR', async () => {
    proxy.setFaults([{ kind: 'status', status: 500, times: 100, match: /\/manifests\// }]);
    const err = await errorOf(createRegistryClient({ plainHttp: true, retry: { ...fast, attempts: 3 } }).getManifest(parseReference(`${proxy.address}/${anonRepo}:v1`)));
    expect(err.code).toBe('REGISTRY_ERROR');
    expect(err.details).toMatchObject({ status: 500 });
  });

  it('resumes a blob cut mid-stream with Range', async () => {
    proxy.setFaults([{ kind: 'cut', afterBytes: 100_000, times: 1, match: /\/blobs\// }]);
    proxy.clearRequests();
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ plainHttp: true, retry: fast, onEvent: (e) => events.push(e) });
    const data = await collect(client.fetchBlob({ registry: proxy.address, repository: anonRepo }, bigLayer));
    expect(`sha256:${createHash('sha256').update(data).digest('hex')}`).toBe(bigLayer.digest);
    const gets = proxy.requests.filter((r) => r.path.includes(bigLayer.digest));
    expect(gets).toHaveLength(2);
    expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(gets[1]?.range ?? '')?.[1])).toBeGreaterThan(0);
    expect(gets[1]?.status).toBe(206);
    expect(events.find((e) => e.type === 'resume')).toMatchObject({ restarted: false });
  });

  it('follows a blob redirect to the CDN without the registry Authorization', async () => {
    const basicProxy = await startFaultProxy({ upstream: env.registryBasic, faults: [{ kind: 'redirect-blobs' }] });
    try {
      const img = await makeImage({ tag: 'r1', bytes: 20_000 });
      const repo = `kimg-regtest-${run}/redirect`;
      await pushImage({ layoutDir: img.dir, tag: 'r1', dest: `${env.registryBasic}/${repo}:r1`, plainHttp: true, creds: { username: env.basicUser, password: env.basicPass } });
      const client = createRegistryClient({ plainHttp: true, retry: fast, credentials: staticCredentials({ [basicProxy.address]: { username: env.basicUser, password: env.basicPass } }) });
      const ref = parseReference(`${basicProxy.address}/${repo}:r1`);
      const m = await client.getManifest(ref);
      const layer = m.manifest.layers[0] as Descriptor;
      const data = await collect(client.fetchBlob(ref, layer));
      expect(data.length).toBe(layer.size);
      const cdn = basicProxy.requests.filter((r) => r.via === 'cdn');
      expect(cdn.length).toBeGreaterThan(0);
      expect(cdn.every((r) => !r.authorization && r.status === 200)).toBe(true);
      expect(basicProxy.requests.some((r) => r.via === 'proxy' && r.authorization && r.status === 302)).toBe(true);
    } finally {
      await basicProxy.close();
    }
  });
});

it('keeps file sizes sane (the fixture layer is big enough to be cut)', async () => {
  expect(bigLayer.size).toBeGreaterThan(200_000);
  expect((await stat(anonImage.dir)).isDirectory()).toBe(true);
});
