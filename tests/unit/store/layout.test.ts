import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rename, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REF_NAME, currentBootId, defaultCacheDir, openStore, settleUnsynced, unsyncedMarker, withIndexEntry } from '../../../src/store/layout.js';
import { toOciManifest } from '../../../src/store/convert.js';
import { MediaType } from '../../../src/oci/index.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('defaultCacheDir', () => {
  it('honours KAIROS_IMG_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(defaultCacheDir({ KAIROS_IMG_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/kairos-img');
    expect(defaultCacheDir({ HOME: '/h' })).toBe('/h/.cache/kairos-img');
  });
});

describe('store (OCI layout on a temp dir)', () => {
  it('initialises an OCI layout', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-store-'));
    await openStore({ root });
    expect(JSON.parse(await readFile(path.join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(path.join(root, 'index.json'), 'utf8'))).toMatchObject({ schemaVersion: 2, manifests: [] });
  });
  it('writes verified blobs and keeps nothing of a mismatching one', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-store-'));
    const store = await openStore({ root });
    const data = Buffer.from('hello layer');
    const desc = { digest: sha(data), size: data.length };
    expect(await store.writeBlob(desc, Readable.from([data.subarray(0, 3), data.subarray(3)]))).toMatchObject({ written: true });
    expect(await store.has(desc.digest)).toBe(true);
    expect(await store.writeBlob(desc, data)).toMatchObject({ written: false });
    const bad = { digest: sha('other'), size: data.length };
    await expect(store.writeBlob(bad, data)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(store.writeBlob({ digest: sha(data), size: 3 }, data)).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    await expect(store.writeBlob({ digest: sha(data), size: 99 }, data)).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    expect(await store.has(bad.digest)).toBe(false);
    const files = await readdir(path.join(root, 'blobs', 'sha256'));
    expect(files).toEqual([desc.digest.slice(7)]);
  });
  it('verifies large streamed blobs on the hashing worker: a match is kept, a mismatch leaves nothing', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-store-'));
    const store = await openStore({ root });
    const big = Buffer.alloc(9 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    const chunks = (b: Buffer): Buffer[] => Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536));
    const desc = { digest: sha(big), size: big.length };
    expect(await store.writeBlob(desc, Readable.from(chunks(big)))).toMatchObject({ written: true });
    expect(sha(await readFile(store.blobPath(desc.digest)))).toBe(desc.digest);
    const other = Buffer.from(big);
    other.writeUInt8(0xff, other.length - 1);
    const claimed = { digest: sha(big.subarray(0, 10)), size: other.length };
    await expect(store.writeBlob(claimed, Readable.from(chunks(other)))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await readdir(path.join(root, 'blobs', 'sha256'))).toEqual([desc.digest.slice(7)]);
    // Many at once share the one worker.
    const many = await Promise.all([1, 2, 3, 4].map(async (n) => {
      const b = Buffer.alloc(5 * 1024 * 1024, n);
      return store.writeBlob({ digest: sha(b), size: b.length }, Readable.from(chunks(b)));
    }));
    expect(many.every((r) => r.written)).toBe(true);
  });
  it('marks blobs named before their data is synced; after a reboot they are hashed again, bad ones removed', async () => {
    const boot = await currentBootId();
    expect(boot).toMatch(/^[0-9a-f-]{16,}$/); // Linux: the durability below depends on it
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-store-'));
    const store = await openStore({ root });
    const good = Buffer.from('kept across a reboot');
    const lost = Buffer.from('its data never reached the disk');
    const settled = Buffer.from('written long ago in this boot');
    for (const b of [good, lost, settled]) await store.writeBlob({ digest: sha(b), size: b.length }, b);
    const markers = path.join(root, '.unsynced');
    expect((await readdir(markers)).sort()).toEqual([good, lost, settled].map((b) => unsyncedMarker(sha(b), boot as string)).sort());
    // Nothing to do right after writing: markers of this boot stay until they are old.
    expect(await settleUnsynced(root)).toEqual({ verified: 0, removed: 0, settled: 0 });

    // Simulate a reboot for two of them (their markers name another boot), one lost its content.
    for (const b of [good, lost]) await rename(path.join(markers, unsyncedMarker(sha(b), boot as string)), path.join(markers, unsyncedMarker(sha(b), '00000000-0000-0000-0000-000000000000')));
    await writeFile(store.blobPath(sha(lost)), Buffer.alloc(lost.length));
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(path.join(markers, unsyncedMarker(sha(settled), boot as string)), old, old);
    await openStore({ root });
    expect(await store.has(sha(good))).toBe(true);
    expect(await store.has(sha(lost))).toBe(false);
    expect(await store.has(sha(settled))).toBe(true);
    expect(await readdir(markers)).toEqual([]);
  });
  it('maps ref names (per platform) in index.json', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-store-'));
    const store = await openStore({ root });
    const m1 = Buffer.from('{"schemaVersion":2,"a":1}');
    const m2 = Buffer.from('{"schemaVersion":2,"a":2}');
    const amd = { os: 'linux', architecture: 'amd64' };
    const arm = { os: 'linux', architecture: 'arm64' };
    await store.putManifest('r/x:1', { mediaType: MediaType.ociManifest, digest: sha(m1), size: m1.length, platform: amd }, m1);
    await store.putManifest('r/x:1', { mediaType: MediaType.ociManifest, digest: sha(m2), size: m2.length, platform: arm }, m2);
    await store.putManifest('r/x:1', { mediaType: MediaType.ociManifest, digest: sha(m2), size: m2.length, platform: amd }, m2);
    expect((await store.resolveTag('r/x:1', amd))?.digest).toBe(sha(m2));
    expect((await store.resolveTag('r/x:1', arm))?.digest).toBe(sha(m2));
    expect(await store.resolveTag('r/x:2')).toBeUndefined();
    expect((await store.readIndex()).manifests).toHaveLength(2);
    expect(await store.readJson(sha(m1))).toEqual({ schemaVersion: 2, a: 1 });
  });
  it('serialises concurrent index updates without losing entries', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kimg-store-'));
    const store = await openStore({ root });
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const raw = Buffer.from(`{"n":${i}}`);
      await store.putManifest(`r/x:${i}`, { mediaType: MediaType.ociManifest, digest: sha(raw), size: raw.length }, raw);
    }));
    const idx = await store.readIndex();
    expect(idx.manifests.map((d) => d.annotations?.[REF_NAME]).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `r/x:${i}`).sort());
  });
});

describe('pure index and conversion helpers', () => {
  it('replaces entries of the same name and platform only', () => {
    const e = (digest: string, name: string) => ({ mediaType: 'm', digest, size: 1, annotations: { [REF_NAME]: name } });
    const idx = withIndexEntry({ schemaVersion: 2, manifests: [e('a', 'x'), e('b', 'y')] }, e('c', 'x'));
    expect(idx.manifests.map((d) => d.digest)).toEqual(['b', 'c']);
  });
  it('converts Docker schema 2 to OCI keeping blobs', () => {
    const m = toOciManifest({
      schemaVersion: 2, mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: 'sha256:c', size: 1 },
      layers: [{ mediaType: MediaType.dockerLayerGzip, digest: 'sha256:l', size: 2 }],
    });
    expect(m).toEqual({
      schemaVersion: 2, mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: 'sha256:c', size: 1 },
      layers: [{ mediaType: MediaType.ociLayerGzip, digest: 'sha256:l', size: 2 }],
    });
  });
});
