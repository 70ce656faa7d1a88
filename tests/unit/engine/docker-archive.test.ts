// dockerArchiveStream over a real cache on disk: what `docker load` will read, entry by entry.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { dockerArchiveStream } from '../../../src/engine/docker-archive.js';
import { openStore, type Store } from '../../../src/store/layout.js';
import { MediaType, type ImageManifest } from '../../../src/oci/index.js';
import { gzip, tarOf, zstd } from '../../helpers/layers.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readArchive(stream: Readable): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => chunks.push(c as Buffer));
      body.on('end', () => { out.set(header.name, Buffer.concat(chunks)); next(); });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    stream.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return out;
}

async function image(store: Store): Promise<{ manifest: ImageManifest; plain: Buffer[]; blobs: Buffer[] }> {
  const plain = await Promise.all([
    tarOf([{ path: 'a.txt', type: 'file', content: 'A'.repeat(5000) }]),
    tarOf([{ path: 'b.txt', type: 'file', content: 'B'.repeat(70_000) }]),
    tarOf([{ path: 'c.txt', type: 'file', content: 'C' }]),
  ]);
  const blobs = [gzip(plain[0] as Buffer), await zstd(plain[1] as Buffer), plain[2] as Buffer];
  const types = [MediaType.ociLayerGzip, MediaType.ociLayerZstd, MediaType.ociLayer];
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: plain.map(sha) } }));
  await store.writeBlob({ digest: sha(config), size: config.length }, config);
  for (const b of blobs) await store.writeBlob({ digest: sha(b), size: b.length }, b);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha(config), size: config.length },
    // the first layer twice: the archive carries it once, the manifest names it twice
    layers: [...blobs.map((b, i) => ({ mediaType: types[i] as string, digest: sha(b), size: b.length })), { mediaType: types[0] as string, digest: sha(blobs[0] as Buffer), size: (blobs[0] as Buffer).length }],
  };
  return { manifest, plain, blobs };
}

describe('dockerArchiveStream', () => {
  it('manifest.json, config, gzip and plain layers as cached, zstd layers decompressed', async () => {
    const store = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-arch-')) });
    const { manifest, plain, blobs } = await image(store);
    let last = 0;
    const entries = await readArchive(dockerArchiveStream({ store, manifest, repoTags: ['127.0.0.1:5000/x/y:v1'], onBytes: (b) => { expect(b).toBeGreaterThanOrEqual(last); last = b; } }));
    const hex = (d: string): string => d.slice(7);
    expect([...entries.keys()]).toEqual(['manifest.json', `${hex(manifest.config.digest)}.json`, ...blobs.map((b) => `${hex(sha(b))}.tar`)]);
    expect(JSON.parse((entries.get('manifest.json') as Buffer).toString())).toEqual([{
      Config: `${hex(manifest.config.digest)}.json`, RepoTags: ['127.0.0.1:5000/x/y:v1'], Layers: manifest.layers.map((l) => `${hex(l.digest)}.tar`),
    }]);
    expect(entries.get(`${hex(sha(blobs[0] as Buffer))}.tar`)).toEqual(blobs[0]); // gzip: as cached
    expect(entries.get(`${hex(sha(blobs[1] as Buffer))}.tar`)).toEqual(plain[1]); // zstd: decompressed
    expect(entries.get(`${hex(sha(blobs[2] as Buffer))}.tar`)).toEqual(plain[2]);
    const total = manifest.config.size + blobs.reduce((a, b) => a + b.length, 0);
    expect(last).toBe(total);
  });

  it('a corrupted cached blob fails the stream (the engine gets no complete archive) and leaves the cache', async () => {
    const store = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-arch-')) });
    const { manifest, blobs } = await image(store);
    const victim = blobs[2] as Buffer;
    await writeFile(store.blobPath(sha(victim)), Buffer.from(victim).fill(0x41, 600, 700));
    await expect(readArchive(dockerArchiveStream({ store, manifest, repoTags: [] }))).rejects.toMatchObject({ code: 'CACHE_CORRUPT' });
    expect(await store.has(sha(victim))).toBe(false);
  });

  it('an abort fails the stream as interrupted', async () => {
    const store = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-arch-')) });
    const { manifest } = await image(store);
    const ac = new AbortController();
    ac.abort();
    await expect(readArchive(dockerArchiveStream({ store, manifest, repoTags: [], signal: ac.signal }))).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });
});
