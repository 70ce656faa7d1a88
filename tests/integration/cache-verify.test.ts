// The content cache is verified on read: a cached blob replaced on disk by another valid archive,
// or with a flipped byte, is never used — unpack, pull (and its OCI layout export) and extract-img
// notice it while streaming, remove it, say so, and fetch it again from the registry once.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';
import { json, runCli } from '../helpers/cli.js';
import { tarOf } from '../helpers/layers.js';

const env = testEnv();
let work: string;

function cli(args: string[], cache: string) {
  return runCli(['--registry', env.registry, '--plain-http', ...args], { env: { KAIROS_IMG_CACHE: cache } });
}

async function image(name: string, compression: 'gzip' | 'none'): Promise<{ ref: string; layer: { digest: string; size: number } }> {
  const dir = path.join(work, `layout-${name}`);
  const img = await buildImage({
    dir,
    tag: 'v1',
    layers: [{ compression, entries: [{ path: 'etc/', type: 'dir' }, { path: 'etc/motd', type: 'file', content: `welcome ${name}\n` }, { path: 'etc/noise', type: 'file', content: randomBytes(4096) }] }],
  });
  const ref = `${env.registry}/test/cache-${name}-${randomBytes(4).toString('hex')}:v1`;
  await pushImage({ layoutDir: dir, tag: 'v1', dest: ref });
  const layer = img.layers[0];
  if (layer === undefined) throw new Error('no layer');
  return { ref, layer };
}

function blobFile(cache: string, digest: string): string {
  return path.join(cache, 'blobs', 'sha256', digest.slice(7));
}

async function evilGzip(): Promise<Buffer> {
  return gzipSync(await tarOf([{ path: 'etc/', type: 'dir' }, { path: 'etc/motd', type: 'file', content: 'EVIL!!!\n' }]));
}

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'demo', log: () => undefined });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-cache-verify-'));
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('a corrupted cache is never used', () => {
  it('unpack: a cached gzip layer replaced by another valid gzip is refetched, not unpacked', async () => {
    const { ref, layer } = await image('swap', 'gzip');
    const cache = path.join(work, 'c-swap');
    expect((await cli(['pull', ref], cache)).code).toBe(0);
    await writeFile(blobFile(cache, layer.digest), await evilGzip());
    const dir = path.join(work, 'rootfs-swap');
    const r = await cli(['unpack', ref, dir, '--json'], cache);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'etc/motd'), 'utf8')).toBe('welcome swap\n');
    expect(r.stderr).toMatch(/warning: cached blob sha256:[0-9a-f]{64} was corrupted on disk.*fetching it again/);
    expect(json<{ fromCache: boolean }>(r).fromCache).toBe(false);
    // The cache holds the good blob again.
    expect((await readFile(blobFile(cache, layer.digest))).length).toBe(layer.size);
  });

  it('unpack: a flipped byte in an uncompressed cached layer is refetched', async () => {
    const { ref, layer } = await image('flip', 'none');
    const cache = path.join(work, 'c-flip');
    expect((await cli(['pull', ref], cache)).code).toBe(0);
    const file = blobFile(cache, layer.digest);
    const bytes = await readFile(file);
    const at = bytes.indexOf(Buffer.from('welcome flip'));
    bytes[at] = (bytes[at] ?? 0) ^ 0x20; // "Welcome": still a valid tar, other content
    await writeFile(file, bytes);
    const dir = path.join(work, 'rootfs-flip');
    const r = await cli(['unpack', ref, dir], cache);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'etc/motd'), 'utf8')).toBe('welcome flip\n');
    expect(r.stderr).toMatch(/corrupted on disk/);
  });

  it('pull: a corrupt cached blob is not "cached": it is fetched again and the exported layout is good', async () => {
    const { ref, layer } = await image('pull', 'gzip');
    const cache = path.join(work, 'c-pull');
    expect((await cli(['pull', ref], cache)).code).toBe(0);
    await writeFile(blobFile(cache, layer.digest), await evilGzip());
    const layout = path.join(work, 'layout-out');
    const r = await cli(['pull', ref, '--to', `oci:${layout}:v1`, '--json'], cache);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/was corrupted on disk; it was removed and is fetched again/);
    const exported = await readFile(path.join(layout, 'blobs', 'sha256', layer.digest.slice(7)));
    expect(exported.length).toBe(layer.size);
    expect(json<{ fetched: number }>(r).fetched).toBe(1);
  });

  it('extract-img: a corrupt cached artifact blob is refetched and the image verified', async () => {
    const ref = `${env.registry}/kairos/core-alpine-arm-rpi:v1.5.0.img`;
    const cache = path.join(work, 'c-img');
    expect((await cli(['pull', ref, '--arch', 'arm64'], cache)).code).toBe(0);
    const manifestBlobs = (await readdir(path.join(cache, 'blobs', 'sha256'))).map((h) => path.join(cache, 'blobs', 'sha256', h));
    // The largest blob is the artifact's layer.
    const sizes = await Promise.all(manifestBlobs.map(async (f) => ({ f, n: (await readFile(f)).length })));
    const biggest = sizes.sort((a, b) => b.n - a.n)[0];
    if (biggest === undefined) throw new Error('empty cache');
    await writeFile(biggest.f, await evilGzip());
    const out = path.join(work, 'build');
    const r = await cli(['extract-img', ref, '--out', out, '--json'], cache);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/corrupted on disk/);
    expect(json<{ files: Array<{ verified: boolean }> }>(r).files.some((f) => f.verified)).toBe(true);
    // Removed; extract-img does not write artifacts into the cache (see operations/extract-img.ts).
    expect(existsSync(biggest.f)).toBe(false);
  });
});
