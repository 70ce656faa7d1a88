// The fault proxy against the real registry: every fault kind does what registry-client tests
// rely on, and without faults it is a transparent, recording pass-through.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { basicAuth, testEnv } from '../helpers/env.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';

const env = testEnv();
const runId = randomBytes(4).toString('hex');
const repo = `kimg-selftest/fault-proxy-${runId}`;
const blob = randomBytes(300_000);
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const blobPath = `/v2/${repo}/blobs/${digest}`;

/** Monolithic blob upload (POST then PUT ?digest=), straight to a registry. */
async function uploadBlob(registry: string, headers: Record<string, string> = {}): Promise<void> {
  const start = await fetch(`http://${registry}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location') ?? '', `http://${registry}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: blob,
  });
  expect(put.status).toBe(201);
}

let proxy: FaultProxy;

beforeAll(async () => {
  await uploadBlob(env.registry);
  proxy = await startFaultProxy({ upstream: env.registry });
});

afterAll(async () => {
  await proxy?.close();
});

beforeEach(() => {
  proxy.setFaults([]);
  proxy.clearRequests();
});

describe('fault proxy without faults', () => {
  it('passes requests through and records method, path, status and Authorization presence', async () => {
    const ping = await fetch(`http://${proxy.address}/v2/`);
    expect(ping.status).toBe(200);
    const res = await fetch(`http://${proxy.address}${blobPath}`, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(blob)).toBe(true);
    const missing = await fetch(`http://${proxy.address}/v2/${repo}/manifests/nope`);
    expect(missing.status).toBe(404);
    expect(proxy.requests).toEqual([
      { via: 'proxy', method: 'GET', path: '/v2/', status: 200, authorization: false },
      { via: 'proxy', method: 'GET', path: blobPath, status: 200, authorization: true },
      { via: 'proxy', method: 'GET', path: `/v2/${repo}/manifests/nope`, status: 404, authorization: false },
    ]);
  });

  it('passes Range through so a client can resume', async () => {
    const res = await fetch(`http://${proxy.address}${blobPath}`, { headers: { range: 'bytes=1000-' } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(blob.subarray(1000))).toBe(true);
    expect(proxy.requests[0]).toMatchObject({ status: 206, range: 'bytes=1000-' });
  });

  it('forwards uploads, keeping the registry Location on the proxy', async () => {
    const start = await fetch(`http://${proxy.address}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const location = start.headers.get('location') ?? '';
    expect(location).toContain(proxy.address);
    const cancel = await fetch(new URL(location, `http://${proxy.address}`), { method: 'DELETE' });
    expect(cancel.status).toBe(204);
    expect(proxy.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 202],
      ['DELETE', 204],
    ]);
  });
});

describe('status fault', () => {
  it('answers the first N matching requests with the status and Retry-After, then forwards', async () => {
    proxy.setFaults([{ kind: 'status', status: 503, retryAfter: 2, times: 2, match: /\/blobs\// }]);
    const other = await fetch(`http://${proxy.address}/v2/`);
    expect(other.status).toBe(200);
    for (let i = 0; i < 2; i += 1) {
      const res = await fetch(`http://${proxy.address}${blobPath}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      await res.arrayBuffer();
    }
    const ok = await fetch(`http://${proxy.address}${blobPath}`);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(blob)).toBe(true);
    expect(proxy.requests.map((r) => [r.path, r.status, r.fault])).toEqual([
      ['/v2/', 200, undefined],
      [blobPath, 503, 'status'],
      [blobPath, 503, 'status'],
      [blobPath, 200, undefined],
    ]);
  });
});

describe('cut fault', () => {
  it('drops the connection after K body bytes; a Range request resumes the rest', async () => {
    proxy.setFaults([{ kind: 'cut', afterBytes: 100_000, times: 1, match: /\/blobs\/sha256:/ }]);
    const res = await fetch(`http://${proxy.address}${blobPath}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(blob.length));
    const received: Buffer[] = [];
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    let error: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received.push(Buffer.from(value));
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeDefined();
    const got = Buffer.concat(received);
    expect(got.length).toBe(100_000);
    expect(got.equals(blob.subarray(0, 100_000))).toBe(true);

    const rest = await fetch(`http://${proxy.address}${blobPath}`, { headers: { range: `bytes=${got.length}-` } });
    expect(rest.status).toBe(206);
    const tail = Buffer.from(await rest.arrayBuffer());
    expect(Buffer.concat([got, tail]).equals(blob)).toBe(true);
    expect(proxy.requests.map((r) => r.fault)).toEqual(['cut', undefined]);
  });
});

describe('redirect-blobs fault', () => {
  it('redirects blob GETs to the CDN on 127.0.0.2, which rejects Authorization and serves without it', async () => {
    proxy.setFaults([{ kind: 'redirect-blobs' }]);
    const res = await fetch(`http://${proxy.address}${blobPath}`, {
      redirect: 'manual',
      headers: { authorization: 'Bearer registry-token' },
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.host).toBe(proxy.cdnAddress);
    expect(location.hostname).toBe('127.0.0.2');

    const withAuth = await fetch(location, { headers: { authorization: 'Bearer registry-token' } });
    expect(withAuth.status).toBe(400);
    expect(await withAuth.text()).toContain('Only one auth mechanism allowed');

    const plain = await fetch(location);
    expect(plain.status).toBe(200);
    expect(Buffer.from(await plain.arrayBuffer()).equals(blob)).toBe(true);

    const ranged = await fetch(location, { headers: { range: 'bytes=5-9' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(blob.subarray(5, 10))).toBe(true);

    const forged = new URL(location);
    forged.searchParams.set('ticket', 'forged');
    expect((await fetch(forged)).status).toBe(403);

    expect(proxy.requests.map((r) => [r.via, r.status, r.authorization])).toEqual([
      ['proxy', 302, true],
      ['cdn', 400, true],
      ['cdn', 200, false],
      ['cdn', 206, false],
      ['cdn', 403, false],
    ]);
  });

  it('does not redirect manifests or non-GET requests', async () => {
    proxy.setFaults([{ kind: 'redirect-blobs' }]);
    const head = await fetch(`http://${proxy.address}${blobPath}`, { method: 'HEAD', redirect: 'manual' });
    expect(head.status).toBe(200);
    const manifest = await fetch(`http://${proxy.address}/v2/${repo}/manifests/latest`, { redirect: 'manual' });
    expect(manifest.status).toBe(404);
  });

  it('lets the CDN fetch from an authenticated upstream with the redirected request’s credentials', async () => {
    const auth = basicAuth(env.basicUser, env.basicPass);
    await uploadBlob(env.registryBasic, { authorization: auth });
    const basicProxy = await startFaultProxy({ upstream: env.registryBasic, faults: [{ kind: 'redirect-blobs' }] });
    try {
      const res = await fetch(`http://${basicProxy.address}${blobPath}`, {
        redirect: 'manual',
        headers: { authorization: auth },
      });
      expect(res.status).toBe(302);
      const blobRes = await fetch(res.headers.get('location') ?? '');
      expect(blobRes.status).toBe(200);
      expect(Buffer.from(await blobRes.arrayBuffer()).equals(blob)).toBe(true);
    } finally {
      await basicProxy.close();
    }
  });

  it('combines with a cut on the CDN', async () => {
    proxy.setFaults([{ kind: 'redirect-blobs' }, { kind: 'cut', afterBytes: 10, times: 1, match: /\/blobs\// }]);
    const res = await fetch(`http://${proxy.address}${blobPath}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cut = await fetch(res.headers.get('location') ?? '');
    await expect(cut.arrayBuffer()).rejects.toThrow();
    const again = await fetch(res.headers.get('location') ?? '');
    expect(Buffer.from(await again.arrayBuffer()).equals(blob)).toBe(true);
    expect(proxy.requests.map((r) => [r.via, r.fault])).toEqual([
      ['proxy', 'redirect-blobs'],
      ['cdn', 'cut'],
      ['cdn', undefined],
    ]);
  });
});
