// The blob reader of src/registry/blob-body.ts and the slab pool it reads into: against the real
// registry (plain HTTP, and behind a TLS terminator with a certificate made here), and against raw
// TCP servers that answer in the shapes it must handle or hand back to node:http (a head split
// byte by byte, a chunked body, an interim 103, a body cut short, a body longer than announced).
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { collect } from '../helpers/async.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { testEnv } from '../helpers/env.js';
import { createRegistryClient, staticCredentials, type RegistryEvent } from '../../src/registry/index.js';
import { blobGet, NOT_SIMPLE_CODE } from '../../src/registry/blob-body.js';
import { httpRequest } from '../../src/registry/http.js';
import { SLAB_SIZE } from '../../src/slab-pool.js';
import { openStore } from '../../src/store/index.js';

const env = testEnv();
const run = randomBytes(4).toString('hex');
const repo = `kimg-blobbody-${run}/app`;
let layer: { digest: string; size: number; mediaType: string };
let small: { digest: string; size: number; mediaType: string };
let payload: Buffer;

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** Passes chunks on as they are, telling `see` about each. */
const tapping = (see: (c: Buffer) => void): Transform => new Transform({ highWaterMark: 0, transform(c: Buffer, _e, cb) { see(c); cb(null, c); } });

beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kimg-blobbody-'));
  payload = randomBytes(16 * 1024 * 1024);
  const built = await buildImage({
    dir, tag: 'v1', format: 'oci', arch: 'amd64',
    layers: [{ compression: 'none', entries: [{ path: 'data/blob.bin', type: 'file', content: payload }] },
      { compression: 'none', entries: [{ path: 'etc/os-release', type: 'file', content: 'NAME=blob-body\n' }] }],
  });
  await pushImage({ layoutDir: dir, tag: 'v1', dest: `${env.registry}/${repo}:v1`, plainHttp: true });
  layer = built.layers[0] as typeof layer;
  small = built.layers[1] as typeof small;
});

describe('blob GETs from the real registry', () => {
  const client = createRegistryClient({ plainHttp: true });
  const where = (): { registry: string; repository: string } => ({ registry: env.registry, repository: repo });

  it('reads a large blob into pool slabs when asked, verified; otherwise, and a small one, through node:http', async () => {
    const slabs = new Set<ArrayBufferLike>();
    const tap = tapping((c) => { if (c.buffer.byteLength === SLAB_SIZE) slabs.add(c.buffer); });
    const data = await collect(client.fetchBlob(where(), { ...layer }, { pooled: true }).pipe(tap));
    expect(sha(data)).toBe(layer.digest);
    expect(slabs.size).toBeGreaterThan(0);

    // A consumer that does not recycle (an upload, an unpack) gets node:http's own buffers.
    let fromSlabs = 0;
    const plain = await collect(client.fetchBlob(where(), { ...layer }).pipe(tapping((c) => { if (c.buffer.byteLength === SLAB_SIZE) fromSlabs++; })));
    expect(sha(plain)).toBe(layer.digest);
    expect(fromSlabs).toBe(0);

    const smallChunks: Buffer[] = [];
    const s = client.fetchBlob(where(), { ...small }, { pooled: true });
    s.on('data', (c: Buffer) => smallChunks.push(c));
    await new Promise((r) => s.on('end', r));
    expect(sha(Buffer.concat(smallChunks))).toBe(small.digest);
    expect(smallChunks.every((c) => c.buffer.byteLength !== SLAB_SIZE)).toBe(true);
  });

  it('the cache writer gives slabs back: a 16 MiB blob passes through far fewer slabs than it fills', async () => {
    const store = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-blobbody-cache-')) });
    const seen = new Set<ArrayBufferLike>();
    const tap = tapping((c) => seen.add(c.buffer));
    const stream = client.fetchBlob(where(), { ...layer }, { hash: false, pooled: true }).pipe(tap);
    await store.writeBlob(layer, stream, { recycleChunks: true });
    expect(sha(await readFile(store.blobPath(layer.digest)))).toBe(layer.digest);
    // Without recycling every slab is new: 64 of them for 16 MiB.
    expect(seen.size).toBeLessThan(40);

    // Without recycleChunks (a tee, say) nothing is reused: the chunks stay the consumer's.
    const store2 = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-blobbody-cache-')) });
    const seen2 = new Set<ArrayBufferLike>();
    const kept: Buffer[] = [];
    const tap2 = tapping((c) => { seen2.add(c.buffer); kept.push(c); });
    await store2.writeBlob(layer, client.fetchBlob(where(), { ...layer }, { hash: false, pooled: true }).pipe(tap2), {});
    // What the consumer kept is still the blob: no slab was handed out again under it.
    expect(sha(Buffer.concat(kept))).toBe(layer.digest);
    expect(seen2.size).toBeGreaterThanOrEqual(Math.floor(layer.size / SLAB_SIZE));
  });

  it('a slow consumer gets every byte (the socket pauses, nothing is dropped)', async () => {
    let got = 0;
    const h = createHash('sha256');
    await pipeline(client.fetchBlob(where(), { ...layer }, { pooled: true }), new Writable({
      highWaterMark: 1,
      write(c: Buffer, _e, cb) {
        h.update(c);
        got += c.length;
        // Now and then a pause long enough for the socket's buffers to fill.
        if (got % (4 * 1024 * 1024) < c.length) setTimeout(cb, 30);
        else setImmediate(cb);
      },
    }));
    expect(`sha256:${h.digest('hex')}`).toBe(layer.digest);
  });
});

describe('through the fault proxy', () => {
  it('a large blob cut mid-body resumes with Range on a new pooled connection', async () => {
    const proxy = await startFaultProxy({ upstream: env.registry, faults: [{ kind: 'cut', afterBytes: 5_000_000, times: 1, match: /\/blobs\// }] });
    try {
      const events: RegistryEvent[] = [];
      const client = createRegistryClient({ plainHttp: true, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, maxElapsedMs: 10_000 }, onEvent: (e) => events.push(e) });
      const slabs = new Set<ArrayBufferLike>();
      const data = await collect(client.fetchBlob({ registry: proxy.address, repository: repo }, { ...layer }, { pooled: true }).pipe(tapping((c) => { if (c.buffer.byteLength === SLAB_SIZE) slabs.add(c.buffer); })));
      expect(sha(data)).toBe(layer.digest);
      expect(slabs.size).toBeGreaterThan(0);
      const gets = proxy.requests.filter((r) => r.path.includes(layer.digest));
      expect(gets.map((g) => g.status)).toEqual([200, 206]);
      expect(Number(/=(\d+)-/.exec(gets[1]?.range ?? '')?.[1])).toBeGreaterThan(0);
      expect(events.find((e) => e.type === 'resume')).toMatchObject({ restarted: false });
    } finally {
      await proxy.close();
    }
  });

  it('a token registry: the first GET answers 401 on the slab reader, the token round follows, the blob arrives', async () => {
    const creds = { username: env.tokenUser, password: env.tokenPass };
    const tokenRepo = `kimg-blobbody-${run}/token`;
    const dir = await mkdtemp(path.join(tmpdir(), 'kimg-blobbody-'));
    const built = await buildImage({ dir, tag: 't1', format: 'oci', arch: 'amd64', layers: [{ compression: 'none', entries: [{ path: 'big.bin', type: 'file', content: payload.subarray(0, 2 * 1024 * 1024) }] }] });
    await pushImage({ layoutDir: dir, tag: 't1', dest: `${env.registryToken}/${tokenRepo}:t1`, plainHttp: true, creds });
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ plainHttp: true, credentials: staticCredentials({ [env.registryToken]: creds }), onEvent: (e) => events.push(e) });
    const big = built.layers[0] as typeof layer;
    const slabs = new Set<ArrayBufferLike>();
    const data = await collect(client.fetchBlob({ registry: env.registryToken, repository: tokenRepo }, { ...big }, { pooled: true }).pipe(tapping((c) => { if (c.buffer.byteLength === SLAB_SIZE) slabs.add(c.buffer); })));
    expect(sha(data)).toBe(big.digest);
    expect(slabs.size).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'auth' && e.message.startsWith('fetching a token'))).toBe(true);
    expect(JSON.stringify(events)).not.toContain(env.tokenPass);
  });

  it('follows a redirect to the CDN, the registry\'s credentials left behind', async () => {
    const proxy = await startFaultProxy({ upstream: env.registryBasic, faults: [{ kind: 'redirect-blobs' }] });
    try {
      const dir = await mkdtemp(path.join(tmpdir(), 'kimg-blobbody-'));
      const built = await buildImage({ dir, tag: 'r1', format: 'oci', arch: 'amd64', layers: [{ compression: 'none', entries: [{ path: 'big.bin', type: 'file', content: payload.subarray(0, 3 * 1024 * 1024) }] }] });
      const basicRepo = `kimg-blobbody-${run}/basic`;
      await pushImage({ layoutDir: dir, tag: 'r1', dest: `${env.registryBasic}/${basicRepo}:r1`, plainHttp: true, creds: { username: env.basicUser, password: env.basicPass } });
      const client = createRegistryClient({ plainHttp: true, credentials: staticCredentials({ [proxy.address]: { username: env.basicUser, password: env.basicPass } }) });
      const big = built.layers[0] as typeof layer;
      // As in a real registry, the redirect comes after the client has authenticated (the manifest).
      await client.getManifest({ registry: proxy.address, repository: basicRepo, tag: 'r1' });
      const data = await collect(client.fetchBlob({ registry: proxy.address, repository: basicRepo }, { ...big }, { pooled: true }));
      expect(sha(data)).toBe(big.digest);
      const blobGets = proxy.requests.filter((r) => r.path.includes(big.digest));
      expect(blobGets.some((r) => r.via === 'proxy' && r.authorization && r.status === 302)).toBe(true);
      expect(blobGets.filter((r) => r.via === 'cdn').every((r) => !r.authorization && r.status === 200)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

describe('behind TLS', () => {
  let dir: string;
  let server: tls.Server;
  let port = 0;
  let connections = 0;
  /** The first request line and headers of each connection, as the terminator saw them. */
  const firstRequests: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kimg-blobbody-tls-'));
    // A certificate made for this test (localhost), trusted by the CLI through NODE_EXTRA_CA_CERTS.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const [host, p] = env.registry.split(':') as [string, string];
    server = tls.createServer({ key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) }, (c) => {
      connections++;
      let head = '';
      const sniff = (d: Buffer): void => {
        head += d.toString('latin1');
        if (head.includes('\r\n\r\n') || head.length > 8192) {
          firstRequests.push(head.slice(0, head.indexOf('\r\n\r\n')).toLowerCase());
          c.off('data', sniff);
        }
      };
      c.on('data', sniff);
      const up = net.connect(Number(p), host);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('pulls an image over HTTPS, its large blob on a TLS connection of its own', async () => {
    const out = path.join(dir, 'out');
    const before = connections;
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.resolve('bin/kairos-img'), 'pull', `localhost:${port}/${repo}:v1`, '--to', `oci:${out}`, '--cache-dir', path.join(dir, 'cache'), '--json', '--quiet'],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') } },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ fetched: 3 });
    const blob = await readFile(path.join(out, 'blobs', 'sha256', layer.digest.slice(7)));
    expect(sha(blob)).toBe(layer.digest);
    expect(blob.subarray(512, 512 + 1024).equals(payload.subarray(0, 1024))).toBe(true);
    // node:http's keep-alive connections for the manifest and the small blobs; the large blob on
    // one of its own, asked for by the slab reader (which alone sends `connection: close`).
    expect(connections - before).toBeGreaterThanOrEqual(2);
    const big = firstRequests.filter((r) => r.startsWith(`get /v2/${repo}/blobs/${layer.digest} `));
    expect(big.length).toBeGreaterThan(0);
    expect(big.every((r) => r.includes('\r\nconnection: close'))).toBe(true);
    const smallOnes = firstRequests.filter((r) => r.includes(small.digest));
    expect(smallOnes.every((r) => !r.includes('connection: close'))).toBe(true);
    expect((await readdir(path.join(out, 'blobs', 'sha256'))).length).toBe(4);
  });

  it('a slow reader over TLS gets every byte (the TLS socket stops and resumes reading)', async () => {
    // In a process of its own: only NODE_EXTRA_CA_CERTS makes Node trust the test's certificate.
    const script = `
      import { createHash } from 'node:crypto';
      import { blobGet } from ${JSON.stringify(pathToFileURL(path.resolve('dist/registry/blob-body.js')).href)};
      const res = await blobGet({ url: 'https://localhost:${port}/v2/${repo}/blobs/${layer.digest}', headers: {}, timeoutMs: 10000 });
      const h = createHash('sha256');
      let i = 0;
      for await (const c of res.body) {
        h.update(c);
        if (++i % 40 === 0) await new Promise((r) => setTimeout(r, 15));
      }
      process.stdout.write(res.status + ' sha256:' + h.digest('hex'));
    `;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') } },
        (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`))));
    });
    expect(out).toBe(`200 ${layer.digest}`);
  });
});

/** A raw TCP server that answers each connection with `answer(socket)`. */
async function rawServer(answer: (s: net.Socket, request: string) => void): Promise<{ url: string; close(): Promise<void>; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => {
    sockets.push(s);
    let req = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      req += d.toString('latin1');
      if (req.includes('\r\n\r\n')) answer(s, req);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2/x/blobs/sha256:0`,
    sockets,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
  };
}

const get = (url: string, extra: { signal?: AbortSignal; timeoutMs?: number } = {}) =>
  blobGet({ url, headers: { 'user-agent': 'test' }, timeoutMs: extra.timeoutMs ?? 5000, signal: extra.signal });

async function dribble(s: net.Socket, bytes: Buffer, sizes: number[]): Promise<void> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] as number;
    s.write(bytes.subarray(at, at + n));
    at += n;
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe('raw answers', () => {
  it('a head split byte by byte, the body in odd pieces and in the head\'s last packet', async () => {
    const body = randomBytes(300_000);
    let seen = '';
    const srv = await rawServer((s, req) => {
      seen = req;
      const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Twice: a\r\nX-Twice: b\r\nContent-Length: ${body.length}\r\n\r\n`);
      void dribble(s, Buffer.concat([head, body]), [...Array<number>(head.length - 1).fill(1), 7, 65_537, 3, 200_000]);
    });
    try {
      const res = await get(srv.url);
      expect(res.status).toBe(200);
      expect(res.headers['x-twice']).toBe('a, b');
      expect((await collect(res.body)).equals(body)).toBe(true);
      expect(seen).toMatch(/^GET \/v2\/x\/blobs\/sha256:0 HTTP\/1\.1\r\n/);
      expect(seen).toMatch(/\r\nhost: 127\.0\.0\.1:\d+\r\n/);
      expect(seen).toMatch(/\r\nconnection: close\r\n/);
    } finally {
      await srv.close();
    }
  });

  it('a body delimited by the end of the connection', async () => {
    const body = randomBytes(100_000);
    const srv = await rawServer((s) => { s.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), body])); });
    try {
      const res = await get(srv.url);
      expect((await collect(res.body)).equals(body)).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('a chunked body and an interim 103 are handed back, and httpRequest asks node:http instead', async () => {
    const body = randomBytes(50_000);
    const chunked = await rawServer((s) => {
      s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]));
    });
    const early = await rawServer((s) => {
      s.end(Buffer.concat([Buffer.from(`HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
    });
    try {
      for (const srv of [chunked, early]) {
        await expect(get(srv.url)).rejects.toMatchObject({ code: NOT_SIMPLE_CODE });
        const res = await httpRequest({ url: srv.url, method: 'GET', pooledBody: true });
        expect(res.status).toBe(200);
        expect((await collect(res.body)).equals(body)).toBe(true);
      }
    } finally {
      await chunked.close();
      await early.close();
    }
  });

  it('a body cut short fails with ECONNRESET (retryable); one longer than announced fails too', async () => {
    const short = await rawServer((s) => { s.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'), randomBytes(400)])); });
    const long = await rawServer((s) => { s.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'), randomBytes(20)])); });
    const badLength = await rawServer((s) => { s.end('HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n'); });
    const garbage = await rawServer((s) => { s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'); });
    const silent = await rawServer((s) => { s.end(); });
    try {
      await expect(collect((await get(short.url)).body)).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(collect((await get(long.url)).body)).rejects.toMatchObject({ code: 'HPE_INVALID_CONTENT_LENGTH' });
      await expect(get(badLength.url)).rejects.toMatchObject({ code: 'HPE_INVALID_CONTENT_LENGTH' });
      await expect(get(garbage.url)).rejects.toMatchObject({ code: 'HPE_INVALID_CONSTANT' });
      await expect(get(silent.url)).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      await Promise.all([short, long, badLength, garbage, silent].map((s) => s.close()));
    }
  });

  it('an abort or a stall ends the body with its error and closes the connection', async () => {
    const stall = await rawServer((s) => { s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n'); s.write(randomBytes(1000)); });
    try {
      const ac = new AbortController();
      const res = await get(stall.url, { signal: ac.signal });
      const reading = collect(res.body);
      setTimeout(() => ac.abort(), 20);
      await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
      await new Promise((r) => setTimeout(r, 20));
      expect((stall.sockets[0] as net.Socket).destroyed || (stall.sockets[0] as net.Socket).readableEnded).toBe(true);

      const timed = await get(stall.url, { timeoutMs: 100 });
      await expect(collect(timed.body)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      await expect(get(stall.url, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await stall.close();
    }
  });
});
